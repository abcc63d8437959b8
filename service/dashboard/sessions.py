"""Dashboard sessions held in the database (table dashboard_sessions), not in the cookie.

The browser's cookie carries only a random token; the row is found by the token's SHA-256, so a copy
of the table opens no session. Flask's session dict (CSRF token, flashes) is stored in the row. Ending
the row (logout, an admin, a disabled account, idle or absolute timeout) ends the session wherever the
cookie is: an old cookie replayed later finds no live row and is an anonymous visitor.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, request
from flask.sessions import SecureCookieSession, SessionInterface, session_json_serializer
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..db import transaction
from ..models import DashboardSession
from ..services import Services
from ..settings import Settings

PENDING = timedelta(minutes=10)  # from the password to the second factor
ANONYMOUS = timedelta(hours=12)  # a login page left open (its CSRF token), before anyone signs in
KEEP_ENDED = timedelta(days=30)  # ended rows stay this long, then go (the audit log keeps the logins)
TOKEN_LIMIT = 100  # longer cookie values are not ours: not even looked up


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Record:
    """The row behind this request's session, as read when the request began."""

    id: int
    user_id: int | None
    stage: str  # anon | totp | enrol | full
    created_at: datetime
    last_active_at: datetime


class ServerSession(SecureCookieSession):
    def __init__(self, initial: Any = None, record: Record | None = None) -> None:
        super().__init__(initial)
        self.record = record
        self.token: str | None = None  # a new token for the browser (new row, or rotated at sign-in)


def _services(app: Flask) -> Services:
    return app.extensions["triage"]


class DatabaseSessionInterface(SessionInterface):
    serializer = session_json_serializer  # Flask's own tagged JSON: flashes keep their shape

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app), "")
        if not token or len(token) > TOKEN_LIMIT or request.path.startswith("/dashboard/static/"):
            return ServerSession()  # webhooks, first visits, stylesheets and scripts: no query
        with _services(app).factory() as db:
            row = db.scalars(select(DashboardSession).where(DashboardSession.token_hash == token_hash(token),
                                                            DashboardSession.ended_at.is_(None))).first()
        if row is None:
            return ServerSession()
        try:
            data = self.serializer.loads(row.data) if row.data else {}
        except ValueError:
            data = {}
        return ServerSession(data, Record(row.id, row.user_id, row.stage, row.created_at, row.last_active_at))

    def save_session(self, app: Flask, session: ServerSession, response: Any) -> None:  # type: ignore[override]
        name = self.get_cookie_name(app)
        if session.accessed:
            response.vary.add("Cookie")
        if session.record is None:
            if not session:
                # A cookie for an ended session is left as it is (it opens nothing): deleting it could
                # race a parallel request of the same page that has just stored a new session.
                return
            begin(_services(app), session, user_id=None, stage="anon")
        if session.modified or session.token:
            svc = _services(app)
            with transaction(svc.factory) as db:  # never writes into a row ended meanwhile (admin, logout)
                db.execute(update(DashboardSession).where(DashboardSession.id == session.record.id,
                                                          DashboardSession.ended_at.is_(None))
                           .values(data=self.serializer.dumps(dict(session))))
        if session.token:
            response.set_cookie(name, session.token, expires=self.get_expiration_time(app, session),
                                httponly=self.get_cookie_httponly(app), domain=self.get_cookie_domain(app),
                                path=self.get_cookie_path(app), secure=self.get_cookie_secure(app),
                                samesite=self.get_cookie_samesite(app))


def begin(svc: Services, session: ServerSession, *, user_id: int | None, stage: str) -> None:
    """A new row and a new token for this browser; the row it had (if any) is deleted, so a token
    seen before sign-in is worth nothing after it (no session fixation)."""
    now = svc.clock()
    token = secrets.token_urlsafe(32)
    with transaction(svc.factory) as db:
        if session.record is not None:
            db.execute(delete(DashboardSession).where(DashboardSession.id == session.record.id))
        row = DashboardSession(token_hash=token_hash(token), user_id=user_id, stage=stage, data="",
                               address=(request.remote_addr or "")[:45],
                               user_agent=request.headers.get("User-Agent", "")[:200],
                               created_at=now, last_active_at=now)
        db.add(row)
        if user_id is None:  # the login page is public: anonymous rows must not pile up
            db.execute(delete(DashboardSession).where(DashboardSession.user_id.is_(None),
                                                      DashboardSession.last_active_at < now - ANONYMOUS))
        db.flush()
        session.record = Record(row.id, user_id, stage, now, now)
    session.token = token
    session.modified = True


def promote(svc: Services, session: ServerSession, stage: str) -> None:
    """The second factor is done (or enrolled): the session is fully signed in, under a new token."""
    assert session.record is not None
    token = secrets.token_urlsafe(32)
    now = svc.clock()
    with transaction(svc.factory) as db:
        db.execute(update(DashboardSession).where(DashboardSession.id == session.record.id)
                   .values(token_hash=token_hash(token), stage=stage, last_active_at=now))
    session.record = Record(session.record.id, session.record.user_id, stage, session.record.created_at, now)
    session.token = token
    session.modified = True


def end(svc: Services, session: ServerSession, reason: str) -> None:
    """End this browser's session; what is stored in `session` afterwards (a flash) is a new anonymous one."""
    if session.record is not None:
        with transaction(svc.factory) as db:
            end_rows(db, svc.clock(), reason, DashboardSession.id == session.record.id)
    session.record = None
    session.token = None
    session.clear()


def end_rows(db: Session, now: datetime, reason: str, *where: Any) -> int:
    """End every live row matching `where` (inside the caller's transaction); how many ended."""
    result = db.execute(update(DashboardSession).where(DashboardSession.ended_at.is_(None), *where)
                        .values(ended_at=now, ended_reason=reason, data=""))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def end_all(db: Session, user_id: int, now: datetime, reason: str) -> int:
    return end_rows(db, now, reason, DashboardSession.user_id == user_id)


def touch(svc: Services, record: Record, now: datetime) -> None:
    with transaction(svc.factory) as db:
        db.execute(update(DashboardSession).where(DashboardSession.id == record.id)
                   .values(last_active_at=now))


def ended_by_time(settings: Settings, stage: str, created_at: datetime, last_active_at: datetime,
                  now: datetime) -> str | None:
    """Why a live row is over by now ("expired", "idle"), or None while it still holds."""
    if stage in ("totp", "enrol"):
        return "expired" if now - created_at > PENDING else None
    if now - created_at > timedelta(hours=settings.dashboard_session_hours):
        return "expired"
    if now - last_active_at > timedelta(minutes=settings.dashboard_idle_minutes):
        return "idle"
    return None


def seconds_left(settings: Settings, record: Record, now: datetime) -> tuple[float, str]:
    """Until this full session ends by itself, and which limit ends it first (idle or absolute)."""
    idle = record.last_active_at + timedelta(minutes=settings.dashboard_idle_minutes) - now
    absolute = record.created_at + timedelta(hours=settings.dashboard_session_hours) - now
    return (idle.total_seconds(), "idle") if idle <= absolute else (absolute.total_seconds(), "absolute")


def live_sessions(db: Session, settings: Settings, user_id: int, now: datetime) -> list[DashboardSession]:
    rows = db.scalars(select(DashboardSession).where(DashboardSession.user_id == user_id,
                                                     DashboardSession.ended_at.is_(None))
                      .order_by(DashboardSession.last_active_at.desc())).all()
    return [row for row in rows if ended_by_time(settings, row.stage, row.created_at, row.last_active_at, now) is None]


def prune(db: Session, settings: Settings, now: datetime) -> None:
    """Ended rows past KEEP_ENDED, and rows whose lifetime ran out long ago, go (run at sign-in)."""
    stale = now - timedelta(hours=settings.dashboard_session_hours) - KEEP_ENDED
    db.execute(delete(DashboardSession).where(or_(DashboardSession.ended_at < now - KEEP_ENDED,
                                                  DashboardSession.created_at < stale)))
