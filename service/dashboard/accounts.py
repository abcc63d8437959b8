"""Admins' view of accounts: each user's live sessions, to end one or all; a lost authenticator reset."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import transaction
from ..models import DashboardSession, User
from . import sessions, twofactor
from .auth import admin_required, audit_row, svc
from .blueprint import bp


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


@bp.post("/users/<username>/sessions/<int(max=9223372036854775807):session_id>/end")
@admin_required
def end_session(username: str, session_id: int) -> Any:
    now = svc().clock()
    with transaction(svc().factory) as db:
        user = _user(db, username)
        ended = sessions.end_rows(db, now, "admin", DashboardSession.id == session_id,
                                  DashboardSession.user_id == user.id)
        db.add(audit_row(g.user, "end_sessions", now, detail=f"{user.username}: session {session_id}"))
    flash(f"Session ended for {user.username}." if ended else "That session had already ended.",
          "success" if ended else "info")
    return redirect(url_for("dashboard.user_sessions", username=user.username))


@bp.post("/users/<username>/sessions/end")
@admin_required
def end_all_sessions(username: str) -> Any:
    now = svc().clock()
    with transaction(svc().factory) as db:
        user = _user(db, username)
        ended = sessions.end_all(db, user.id, now, "admin")
        db.add(audit_row(g.user, "end_sessions", now, detail=f"{user.username}: all ({ended})"))
    flash(f"Ended {ended} session(s) of {user.username}.", "success")
    return redirect(url_for("dashboard.user_sessions", username=user.username))


@bp.post("/users/<username>/reset-2fa")
@admin_required
def reset_two_factor(username: str) -> Any:
    now = svc().clock()
    with transaction(svc().factory) as db:
        user = _user(db, username)
        twofactor.reset(db, user.id)
        ended = sessions.end_all(db, user.id, now, "2fa_reset")
        db.add(audit_row(g.user, "2fa_reset", now, detail=f"{user.username}: {ended} session(s) ended"))
    flash(f"Two-factor reset for {user.username}: they enrol again at their next sign-in.", "success")
    return redirect(url_for("dashboard.user_sessions", username=user.username))
