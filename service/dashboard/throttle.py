"""Sign-in throttling per account, per client address and per known device, counted in the database
(table login_throttle) so every web process sees the same counts.

A few failures are free; past them each attempt must wait a delay that doubles with every failure, up
to MAX_DELAY. Attempts made during the wait are answered 429 without looking at the password and are
not counted, so hammering does not make the wait longer: an attacker gets about one guess a minute per
account, and a nurse is never locked out for longer than a minute. A browser that has signed in to the
account before carries a signed device cookie and is counted on its own (OWASP's "device cookies"), so a
spray against the account from elsewhere does not keep that nurse out at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Request
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..db import transaction
from ..models import LoginThrottle
from ..services import Services

FREE_PER_ACCOUNT = 5
FREE_PER_ADDRESS = 10  # a clinic's nurses may share one address
FREE_PER_DEVICE = 5
MAX_DELAY = timedelta(seconds=60)
WINDOW = timedelta(minutes=15)  # failures are forgotten after this long without one
DEVICE_COOKIE = "triage_device"
DEVICE_DAYS = 30
DEVICES_PER_BROWSER = 5  # a shared workstation remembers its last few nurses


@dataclass(frozen=True)
class Key:
    name: str
    free: int
    forget_on_success: bool  # an account's or device's count restarts at its sign-in; an address's does not


def keys_for(step: str, username: str, address: str, device: str | None) -> list[Key]:
    """What an attempt at `step` (password, code) is counted on."""
    if device:
        return [Key(f"{step}:device:{device}", FREE_PER_DEVICE, True)]
    return [Key(f"{step}:account:{username}", FREE_PER_ACCOUNT, True),
            Key(f"{step}:address:{address}", FREE_PER_ADDRESS, False)]


def delay(failures: int, free: int) -> timedelta | None:
    if failures < free:
        return None
    return min(timedelta(seconds=2 ** min(failures - free, 16)), MAX_DELAY)


def _locked(db: Session, key: str, now: datetime) -> LoginThrottle:
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    db.execute(dialect.insert(LoginThrottle).values(key=key, failures=0, updated_at=now)
               .on_conflict_do_nothing(index_elements=["key"]))
    # Postgres: the row lock makes two processes take turns; SQLite: every transaction already does.
    return db.scalars(select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
                      .execution_options(populate_existing=True)).one()


def admit(svc: Services, keys: list[Key], now: datetime) -> float | None:
    """Claim one attempt. None: go ahead (it counts as a failure until `succeeded`); else the seconds
    to wait first (nothing counted)."""
    with transaction(svc.factory) as db:
        rows = [_locked(db, key.name, now) for key in keys]
        waits = [(row.next_attempt_at - now).total_seconds() for row in rows
                 if row.next_attempt_at is not None and row.next_attempt_at > now]
        if waits:
            return max(waits)
        for key, row in zip(keys, rows, strict=True):
            if now - row.updated_at > WINDOW:
                row.failures = 0
            row.failures += 1
            wait = delay(row.failures, key.free)
            row.next_attempt_at = now + wait if wait else None
            row.updated_at = now
    return None


def succeeded(svc: Services, keys: list[Key]) -> None:
    """The attempt was right: it was not a failure after all."""
    with transaction(svc.factory) as db:
        for key in keys:
            if key.forget_on_success:
                db.execute(delete(LoginThrottle).where(LoginThrottle.key == key.name))
                continue
            row = _locked(db, key.name, svc.clock())
            row.failures = max(row.failures - 1, 0)
            wait = delay(row.failures, key.free)
            row.next_attempt_at = row.updated_at + wait if wait else None


def prune(db: Session, now: datetime) -> None:
    db.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - WINDOW - MAX_DELAY))


# --- known devices ----------------------------------------------------------------------------------------

def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt="dashboard-device")


def _remembered(request: Request, secret_key: str) -> list[dict[str, str]]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        entries = _serializer(secret_key).loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return []
    return [e for e in entries if isinstance(e, dict) and {"u", "n"} <= e.keys()] if isinstance(entries, list) else []


def device_for(request: Request, secret_key: str, username: str) -> str | None:
    """This browser's device id for `username`, if it signed in to that account before."""
    return next((e["n"] for e in _remembered(request, secret_key) if e["u"] == username), None)


def remember_device(request: Request, response: Any, secret_key: str, username: str, secure: bool) -> None:
    """After a full sign-in: this browser is a known device of `username` from now on."""
    others = [e for e in _remembered(request, secret_key) if e["u"] != username]
    entries = [{"u": username, "n": device_for(request, secret_key, username) or secrets.token_urlsafe(16)}]
    value = _serializer(secret_key).dumps(entries + others[:DEVICES_PER_BROWSER - 1])
    response.set_cookie(DEVICE_COOKIE, value, max_age=DEVICE_DAYS * 86400, httponly=True, secure=secure,
                        samesite="Lax", path="/dashboard/")
