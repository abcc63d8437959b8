"""Two-factor sign-in: TOTP (RFC 6238, pyotp) with the QR code drawn here as SVG (segno, no network),
and one-time recovery codes kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..models import RecoveryCode, User
from ..settings import Settings

RECOVERY_CODES = 10
# No 0/o, 1/l/i: read off paper. 12 characters of 31 is about 59 bits: a fast hash is enough for it.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def required(user: User, settings: Settings) -> bool:
    return user.role == "admin" or settings.dashboard_require_2fa


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, RFC 4226's recommended length


def provisioning_uri(secret: str, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code (escaped by segno: the issuer is the clinic's name)."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=4, title="Two-factor QR code")


def matching_step(secret: str, code: str, now: datetime, after: int | None) -> int | None:
    """The 30-second step `code` belongs to (this one or either neighbour, for clock drift), if it is
    later than `after`, the last step accepted for the account: a code seen once is never taken again."""
    code = re.sub(r"\s", "", code)
    if not re.fullmatch(r"[0-9]{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if (after is None or step > after) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def accept_totp(db: Session, user: User, code: str, now: datetime) -> bool:
    """Check a code against the account's secret and spend its step (two requests with one code: one wins)."""
    if not user.totp_secret:
        return False
    step = matching_step(user.totp_secret, code, now, user.totp_last_counter)
    if step is None:
        return False
    spent = db.execute(update(User).where(User.id == user.id, or_(User.totp_last_counter.is_(None),
                                                                   User.totp_last_counter < step))
                       .values(totp_last_counter=step))
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def enable(db: Session, user_id: int, secret: str, step: int, now: datetime) -> list[str]:
    """Store the confirmed secret and make fresh recovery codes; returns them, to show once."""
    db.execute(update(User).where(User.id == user_id).values(totp_secret=secret, totp_enabled_at=now,
                                                             totp_last_counter=step))
    return new_recovery_codes(db, user_id, now)


def reset(db: Session, user_id: int) -> None:
    """Forget the authenticator and the recovery codes (a lost phone): the account enrols again."""
    db.execute(update(User).where(User.id == user_id).values(totp_secret=None, totp_enabled_at=None,
                                                             totp_last_counter=None))
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


def _normal(code: str) -> str:
    return re.sub(r"[^a-z0-9]", "", code.lower())


def _hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def new_recovery_codes(db: Session, user_id: int, now: datetime) -> list[str]:
    db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    db.add_all(RecoveryCode(user_id=user_id, code_hash=_hash(code), created_at=now) for code in codes)
    return codes


def use_recovery_code(db: Session, user_id: int, code: str, now: datetime) -> bool:
    """Spend one recovery code (a conditional update: used once, even by two requests at once)."""
    if len(_normal(code)) != 12:
        return False
    spent = db.execute(update(RecoveryCode).where(RecoveryCode.user_id == user_id,
                                                  RecoveryCode.code_hash == _hash(code),
                                                  RecoveryCode.used_at.is_(None)).values(used_at=now))
    return bool(spent.rowcount)  # type: ignore[attr-defined]


def recovery_codes_left(db: Session, user_id: int) -> int:
    return db.scalar(select(func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user_id,
                                                               RecoveryCode.used_at.is_(None))) or 0
