"""Signing in and out: the password (throttled, throttle.py), then the second factor where the account
has one or needs one (TOTP or a recovery code, twofactor.py); enrolment; the session warning's two
endpoints (time left, which is not activity; "stay signed in", which is)."""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, make_response, redirect, render_template, request, session, url_for
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..db import transaction
from ..models import User
from . import sessions, throttle, twofactor
from .auth import audit, audit_row, login_required, svc
from .blueprint import bp

log = logging.getLogger(__name__)
# Checked when the username is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")
WARN_SECONDS = 120  # the page warns this long before the idle timeout


def _safe_next(target: str | None) -> str:
    """Only paths inside this dashboard: never an open redirect to another site."""
    if not target:
        return url_for("dashboard.queue")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/dashboard/") or target.startswith("//"):
        return url_for("dashboard.queue")
    return target


def _address() -> str:
    return (request.remote_addr or "unknown")[:45]  # the client's, through TRUSTED_PROXIES hops


def _secret() -> str:
    return str(current_app.secret_key)


def _stage() -> str | None:
    record = getattr(session, "record", None)
    return record.stage if record is not None else None


def _wait(step: str, username: str) -> tuple[list[throttle.Key], float | None]:
    device = throttle.device_for(request, _secret(), username)
    keys = throttle.keys_for(step, username, _address(), device)
    return keys, throttle.admit(svc(), keys, svc().clock())


def _too_many(wait: float, template: str, **context: Any) -> Any:
    seconds = max(1, math.ceil(wait))
    flash(f"Too many attempts. Wait {seconds} seconds, then try again.", "error")
    response = make_response(render_template(template, **context), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if g.get("user") is not None and request.method == "GET":
        return redirect(_safe_next(request.args.get("next")))
    if request.method == "GET":
        return render_template("dashboard/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    keys, wait = _wait("password", username)
    if wait is not None:
        audit("login_throttled", username=username, detail=f"from {_address()}")
        log.info("dashboard.login_throttled")
        return _too_many(wait, "dashboard/login.html", next=request.form.get("next", ""))
    with svc().factory() as db:
        user = db.scalars(select(User).where(User.username == username)).first()
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        audit("login_failed", username=username, detail=f"from {_address()}")
        log.info("dashboard.login_failed")
        flash("Wrong username or password, or the account is disabled.", "error")
        return render_template("dashboard/login.html", next=request.form.get("next", "")), 401
    throttle.succeeded(svc(), keys)
    stage = "totp" if user.totp_enabled else "enrol" if twofactor.required(user, svc().settings) else "full"
    session.clear()  # a fresh session, token and CSRF token on every login
    session.permanent = True
    sessions.begin(svc(), session, user_id=user.id, stage=stage)  # type: ignore[arg-type]
    session["next"] = _safe_next(request.form.get("next"))
    if stage == "full":
        return _signed_in(user, "", redirect(session.pop("next")))
    audit("login_password_ok", username=user.username, detail=f"from {_address()}; second factor next")
    return redirect(url_for("dashboard.login_code" if stage == "totp" else "dashboard.two_factor"))


def _signed_in(user: User, how: str, response: Any) -> Any:
    """The session is fully signed in: audit it, tidy old rows, remember this browser for throttling."""
    g.user, g.pending = user, None
    audit("login", detail=f"from {_address()}{how}")
    log.info("dashboard.login user_id=%s", user.id)
    with transaction(svc().factory) as db:
        sessions.prune(db, svc().settings, svc().clock())
        throttle.prune(db, svc().clock())
    throttle.remember_device(request, response, _secret(), user.username,
                             secure=bool(current_app.config["SESSION_COOKIE_SECURE"]))
    return response


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    user: User | None = g.get("pending")
    if user is None or _stage() != "totp":
        return redirect(url_for("dashboard.login"))
    if request.method == "GET":
        return render_template("dashboard/login_code.html")
    code = request.form.get("code", "")[:64]
    keys, wait = _wait("code", user.username)
    if wait is not None:
        audit("login_throttled", username=user.username, detail=f"code, from {_address()}")
        return _too_many(wait, "dashboard/login_code.html")
    now = svc().clock()
    with transaction(svc().factory) as db:
        fresh = db.get(User, user.id)
        assert fresh is not None
        how, left = "", None
        if twofactor.accept_totp(db, fresh, code, now):
            how = ", authenticator code"
        elif twofactor.use_recovery_code(db, user.id, code, now):
            left = twofactor.recovery_codes_left(db, user.id)
            how = f", recovery code ({left} left)"
    if not how:
        audit("login_code_failed", username=user.username, detail=f"from {_address()}")
        flash("That code is not right. Use the 6-digit code your authenticator shows now, or a recovery code.",
              "error")
        return render_template("dashboard/login_code.html"), 401
    throttle.succeeded(svc(), keys)
    sessions.promote(svc(), session, "full")  # type: ignore[arg-type]
    if left is not None:
        flash(f"You signed in with a recovery code; it will not work again ({left} left). "
              "Make new ones on the Two-factor page if you are running out.", "info")
    return _signed_in(user, how, redirect(session.pop("next", None) or url_for("dashboard.queue")))


@bp.route("/two-factor", methods=["GET", "POST"])
def two_factor() -> Any:
    """Enrolment (required for admins, or for everyone with DASHBOARD_REQUIRE_2FA), or its state."""
    user: User | None = g.get("user") or (g.get("pending") if _stage() == "enrol" else None)
    if user is None:
        return redirect(url_for("dashboard.login_code" if _stage() == "totp" else "dashboard.login"))
    if user.totp_enabled:
        with svc().factory() as db:
            left = twofactor.recovery_codes_left(db, user.id)
        return render_template("dashboard/two_factor.html", enrolled=True, left=left)
    secret = session.get("totp_pending") or twofactor.new_secret()  # server-side: never in the cookie
    session["totp_pending"] = secret
    if request.method == "GET":
        return _enrol_page(user, secret)
    keys, wait = _wait("code", user.username)
    if wait is not None:
        return _too_many(wait, "dashboard/two_factor.html", **_enrol_context(user, secret))
    now = svc().clock()
    step = twofactor.matching_step(secret, request.form.get("code", "")[:64], now, None)
    if step is None:
        audit("2fa_enrol_failed", username=user.username)
        flash("That code is not right. Check the time on your phone and enter the code it shows now.", "error")
        return _enrol_page(user, secret, 400)
    throttle.succeeded(svc(), keys)
    with transaction(svc().factory) as db:
        codes = twofactor.enable(db, user.id, secret, step, now)
        db.add(audit_row(user, "2fa_enrolled", now))
    session.pop("totp_pending")
    response = make_response(render_template("dashboard/recovery_codes.html", codes=codes,
                                             next=session.get("next") or url_for("dashboard.queue")))
    if _stage() == "enrol":  # enrolment was the second step of this sign-in
        sessions.promote(svc(), session, "full")  # type: ignore[arg-type]
        session.pop("next", None)
        return _signed_in(user, ", enrolled two-factor", response)
    return response


def _enrol_context(user: User, secret: str) -> dict[str, Any]:
    issuer = f"{svc().settings.clinic_name} nurse line"
    uri = twofactor.provisioning_uri(secret, user.username, issuer)
    return {"enrolled": False, "secret": secret, "qr": Markup(twofactor.qr_svg(uri)),  # segno escapes its text
            "required": twofactor.required(user, svc().settings)}


def _enrol_page(user: User, secret: str, status: int = 200) -> Any:
    return render_template("dashboard/two_factor.html", **_enrol_context(user, secret)), status


@bp.post("/two-factor/recovery-codes")
@login_required
def new_recovery_codes() -> Any:
    """A fresh set (the old ones stop working), for a current authenticator code."""
    keys, wait = _wait("code", g.user.username)
    if wait is not None:
        return _too_many(wait, "dashboard/two_factor.html", enrolled=True, left=None)
    now = svc().clock()
    with transaction(svc().factory) as db:
        fresh = db.get(User, g.user.id)
        assert fresh is not None
        codes = twofactor.new_recovery_codes(db, fresh.id, now) if twofactor.accept_totp(
            db, fresh, request.form.get("code", "")[:64], now) else None
        if codes:
            db.add(audit_row(g.user, "2fa_new_recovery_codes", now))
    if codes is None:
        flash("That code is not right.", "error")
        return redirect(url_for("dashboard.two_factor"))
    throttle.succeeded(svc(), keys)
    return render_template("dashboard/recovery_codes.html", codes=codes, next=url_for("dashboard.queue"))


@bp.post("/logout")
def logout() -> Any:
    user = g.get("user") or g.get("pending")
    if user is not None:
        audit("logout", username=user.username)
    sessions.end(svc(), session, "logout")  # type: ignore[arg-type]
    flash("You are logged out.", "info")
    return redirect(url_for("dashboard.login"))


def _time_left(record: sessions.Record) -> Any:
    left, ends_by = sessions.seconds_left(svc().settings, record, svc().clock())
    return jsonify(seconds_left=max(0, int(left)), ends_by=ends_by, warn_seconds=WARN_SECONDS)


@bp.get("/session")
@login_required
def session_status() -> Any:
    """How long until this session ends by itself (asked by session.js, marked as not activity)."""
    return _time_left(session.record)  # type: ignore[attr-defined]


@bp.post("/session/keepalive")
@login_required
def session_keepalive() -> Any:
    """The warning's "Stay signed in": the nurse is here."""
    record: sessions.Record = session.record  # type: ignore[attr-defined]
    now = svc().clock()
    sessions.touch(svc(), record, now)
    return _time_left(sessions.Record(record.id, record.user_id, record.stage, record.created_at, now))
