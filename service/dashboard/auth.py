"""Dashboard access: who is signed in (server-side sessions, sessions.py), CSRF on every form, roles,
security headers, the audit log. The sign-in pages themselves are in login.py."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..db import transaction
from ..escalation.operations import Actor
from ..models import AuditLog, User
from ..services import Services
from . import sessions
from .blueprint import bp, csrf
from .sessions import Record, ended_by_time

Row = TypeVar("Row")

log = logging.getLogger(__name__)

ROLES = ("nurse", "admin")
MIN_PASSWORD = 10
TOUCH_EVERY = timedelta(seconds=30)  # last activity is written at most this often (idle limits are minutes)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(password) > 128:
        return "the password must have at most 128 characters"
    return None


def svc() -> Services:
    return current_app.extensions["triage"]


def audit(action: str, *, username: str | None = None, escalation_id: int | None = None,
          patient_id: int | None = None, detail: str = "") -> None:
    """One audit row in its own transaction (views, refusals, logins)."""
    user: User | None = g.get("user")
    name = (username if username is not None else user.username if user else "(anonymous)")[:64]
    with transaction(svc().factory) as session:
        session.add(AuditLog(at=svc().clock(), username=name, action=action, escalation_id=escalation_id,
                             patient_id=patient_id, detail=detail))


def row_or_404(session: Session, model: type[Row], row_id: int) -> Row:
    """The row with this id (a case, a photo), or the not-found page."""
    row = session.get(model, row_id)
    if row is None:
        abort(404)
    return row


def audit_row(user: User, action: str, now: datetime, *, escalation_id: int | None = None,
              patient_id: int | None = None, detail: str = "") -> AuditLog:
    """An audit row to add inside the caller's transaction (committed with the action itself)."""
    return AuditLog(at=now, username=user.username, action=action, escalation_id=escalation_id,
                    patient_id=patient_id, detail=detail)


def actor_for(user: User) -> Actor:
    """The same Actor the nurse SMS commands use; a roster nurse of the same name acts with their phone."""
    nurse = svc().roster.nurse_by_name(user.name) if user.name else None
    return Actor(name=user.name or user.username, username=user.username, phone=nurse.phone if nurse else None,
                 admin=user.role == "admin")


AUTO_REFRESH_HEADER = "X-Dashboard-Refresh"  # sent by the queue's refresh and the session-warning check


def is_auto_refresh() -> bool:
    """A request the page makes by itself: it must not keep an unattended screen signed in."""
    return request.headers.get(AUTO_REFRESH_HEADER) == "1" or request.args.get("refresh") == "1"


@bp.before_request
def load_user_and_check_csrf() -> None:
    if request.endpoint == "dashboard.static":
        return  # stylesheet and scripts: public, and not activity
    _load_user()
    if request.method in current_app.config["WTF_CSRF_METHODS"]:
        csrf.protect()  # raises CSRFError (400) for a form without this session's token


def _load_user() -> None:
    """g.user for a fully signed-in session; g.pending for one between the password and the second factor."""
    g.user = g.pending = None
    record: Record | None = getattr(session, "record", None)
    if record is None or record.user_id is None:
        return
    now = svc().clock()
    with svc().factory() as db:
        user = db.get(User, record.user_id)
    reason = "disabled" if user is None or not user.active else ended_by_time(
        svc().settings, record.stage, record.created_at, record.last_active_at, now)
    if reason is not None:
        sessions.end(svc(), session, reason)  # type: ignore[arg-type]
        log.info("dashboard.session_ended reason=%s user_id=%s", reason, record.user_id)
        if reason == "idle":
            minutes = f"{svc().settings.dashboard_idle_minutes:g}"
            flash(f"Your session ended after {minutes} minutes without activity. Please log in again.", "info")
        elif reason == "expired":
            flash("Your session has ended. Please log in again.", "info")
        return
    assert user is not None
    if record.stage != "full":
        g.pending = user
        return
    g.user = user
    every = min(TOUCH_EVERY, timedelta(minutes=svc().settings.dashboard_idle_minutes) / 10)
    if not is_auto_refresh() and now - record.last_active_at >= every:
        sessions.touch(svc(), record, now)


@bp.after_request
def protect_response(response: Any) -> Any:
    """Patient data: never cached, never framed; scripts and styles only from this app."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> Any:
    log.warning("dashboard.csrf_refused path=%s", request.path)
    return render_template("dashboard/error.html", title="Form refused",
                           message="This form was not sent from this page or has expired. Go back, reload the "
                                   "page and try again."), 400


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if request.headers.get("X-Requested-With") == "fetch":
                abort(401)  # the page's own fetches: it reloads itself onto the login form
            if g.get("pending") is not None:  # password done, second factor not yet
                return redirect(url_for("dashboard.two_factor" if session.record.stage == "enrol"  # type: ignore[attr-defined]
                                        else "dashboard.login_code"))
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user.role != "admin":
            audit("forbidden", detail=request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.errorhandler(403)
def forbidden(_: Exception) -> Any:
    return render_template("dashboard/error.html", title="Not allowed",
                           message="Only an admin may see this page."), 403


@bp.errorhandler(404)
def not_found(_: Exception) -> Any:
    return render_template("dashboard/error.html", title="Not found", message="There is no such page."), 404
