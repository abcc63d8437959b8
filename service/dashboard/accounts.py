"""Admins' view of accounts: each user's live sessions, to end one or all; a lost authenticator reset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import abort, flash, g, redirect, render_template, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import transaction
from ..models import DashboardSession, User
from . import sessions, twofactor
from .auth import admin_required, audit_row, svc
from .blueprint import bp
from .views import MAX_ROW_ID

# What an admin action did: the audit row's detail, and the message flashed with its category.
Done = tuple[str, str, str]


def _on_account(username: str, action: str, work: Callable[[Session, User, datetime], Done]) -> Any:
    """One admin action on an account: in one transaction with its audit row, then back to the account's page."""
    now = svc().clock()
    with transaction(svc().factory) as db:
        user = _user(db, username)
        detail, message, category = work(db, user, now)
        db.add(audit_row(g.user, action, now, detail=f"{user.username}: {detail}"))
    flash(message, category)
    return redirect(url_for("dashboard.user_sessions", username=user.username))


def _user(db: Session, username: str) -> User:
    user = db.scalars(select(User).where(User.username == username[:64])).first()
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@admin_required
def users() -> Any:
    now = svc().clock()
    with svc().factory() as db:
        rows = [(user, len(sessions.live_sessions(db, svc().settings, user.id, now)))
                for user in db.scalars(select(User).order_by(User.username))]
    return render_template("dashboard/users.html", rows=rows,
                           required=lambda user: twofactor.required(user, svc().settings))


@bp.get("/users/<username>")
@admin_required
def user_sessions(username: str) -> Any:
    now = svc().clock()
    with svc().factory() as db:
        user = _user(db, username)
        live = sessions.live_sessions(db, svc().settings, user.id, now)
        left = twofactor.recovery_codes_left(db, user.id)
    return render_template("dashboard/user.html", account=user, live=live, codes_left=left,
                           current_id=session.record.id)  # type: ignore[attr-defined]  # "this browser"


@bp.post(f"/users/<username>/sessions/<int(max={MAX_ROW_ID}):session_id>/end")
@admin_required
def end_session(username: str, session_id: int) -> Any:
    def work(db: Session, user: User, now: datetime) -> Done:
        ended = sessions.end_rows(db, now, "admin", DashboardSession.id == session_id,
                                  DashboardSession.user_id == user.id)
        if ended:
            return f"session {session_id}", f"Session ended for {user.username}.", "success"
        return f"session {session_id}", "That session had already ended.", "info"

    return _on_account(username, "end_sessions", work)


@bp.post("/users/<username>/sessions/end")
@admin_required
def end_all_sessions(username: str) -> Any:
    def work(db: Session, user: User, now: datetime) -> Done:
        ended = sessions.end_all(db, user.id, now, "admin")
        return f"all ({ended})", f"Ended {ended} session(s) of {user.username}.", "success"

    return _on_account(username, "end_sessions", work)


@bp.post("/users/<username>/reset-2fa")
@admin_required
def reset_two_factor(username: str) -> Any:
    def work(db: Session, user: User, now: datetime) -> Done:
        twofactor.reset(db, user.id)
        ended = sessions.end_all(db, user.id, now, "2fa_reset")
        return (f"{ended} session(s) ended",
                f"Two-factor reset for {user.username}: they enrol again at their next sign-in.", "success")

    return _on_account(username, "2fa_reset", work)
