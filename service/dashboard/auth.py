"""Dashboard login: hashed passwords, sessions that end, CSRF on every form, roles, failed-login limit."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import transaction
from ..escalation.operations import Actor
from ..models import AuditLog, User
from ..services import Services
from . import bp, csrf

log = logging.getLogger(__name__)

ROLES = ("nurse", "admin")
MIN_PASSWORD = 10
MAX_FAILURES, FAILURE_WINDOW = 5, timedelta(minutes=15)
# Checked when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


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


def _fingerprint(user: User) -> str:
    """Ties a session to the password it was opened with: a password change ends other sessions."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"{user.id}:{user.password_hash}".encode(), hashlib.sha256).hexdigest()[:24]


@bp.before_request
def load_user_and_check_csrf() -> None:
    _load_user()
    if request.method in current_app.config["WTF_CSRF_METHODS"]:
        csrf.protect()  # raises CSRFError (400) for a form without this session's token


def _load_user() -> None:
    g.user = None
    user_id, started = session.get("user_id"), session.get("login_at")
    if user_id is None or started is None:
        return
    lifetime = timedelta(hours=svc().settings.dashboard_session_hours)
    expired = svc().clock() - datetime.fromisoformat(started) > lifetime
    with svc().factory() as db:
        user = db.get(User, user_id)
    if expired or user is None or not user.active or session.get("fingerprint") != _fingerprint(user):
        session.clear()
        if expired:
            flash("Your session has ended. Please log in again.", "info")
        return
    g.user = user


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
                abort(401)  # the queue's refresh: the page reloads itself onto the login form
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


def _safe_next(target: str | None) -> str:
    """Only paths inside this dashboard: never an open redirect to another site."""
    if not target:
        return url_for("dashboard.queue")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard/") or target.startswith("//"):
        return url_for("dashboard.queue")
    return target


def _recent_failures(username: str, address: str, now: datetime) -> int:
    with svc().factory() as db:
        return db.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.action == "login_failed", AuditLog.username == username,
            AuditLog.detail == f"from {address}", AuditLog.at > now - FAILURE_WINDOW)) or 0


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if g.get("user") is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("dashboard/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    address = (request.remote_addr or "unknown")[:45]
    now = svc().clock()
    if _recent_failures(username, address, now) >= MAX_FAILURES:
        audit("login_locked", username=username, detail=f"from {address}")
        flash(f"Too many failed attempts. Wait {FAILURE_WINDOW.seconds // 60} minutes, or ask an admin.", "error")
        return render_template("dashboard/login.html", next=request.form.get("next", "")), 429
    with svc().factory() as db:
        user = db.scalars(select(User).where(User.username == username)).first()
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        audit("login_failed", username=username, detail=f"from {address}")
        log.info("dashboard.login_failed")
        flash("Wrong username or password, or the account is disabled.", "error")
        return render_template("dashboard/login.html", next=request.form.get("next", "")), 401
    session.clear()  # a fresh session (and CSRF token) on every login
    session.permanent = True
    session.update(user_id=user.id, login_at=now.isoformat(), fingerprint=_fingerprint(user))
    g.user = user
    audit("login", detail=f"from {address}")
    log.info("dashboard.login user_id=%s", user.id)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    if g.get("user") is not None:
        audit("logout")
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("dashboard.login"))
