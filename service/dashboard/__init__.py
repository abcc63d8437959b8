"""The nurses' dashboard: queue, case pages, on call, flow diagrams, audit log (server-rendered, no JS build).

Signed-cookie sessions that end DASHBOARD_SESSION_HOURS after login; CSRF checked on every dashboard
form (Flask-WTF). The Twilio webhooks are not CSRF-checked: Twilio's signature protects them, so the
check is switched off by default and switched on in this blueprint only.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, redirect, url_for
from flask_wtf.csrf import CSRFProtect

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static")
csrf = CSRFProtect()
REFRESH_SECONDS = 15  # how often the queue page fetches its rows


def init_dashboard(app: Flask) -> None:
    settings = app.extensions["triage"].settings
    app.config.update(
        SESSION_COOKIE_NAME="triage_dashboard",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.dashboard_session_hours),
        WTF_CSRF_CHECK_DEFAULT=False,  # webhooks: Twilio signatures; dashboard: bp.before_request below
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (which does expire)
    )
    app.config.setdefault("DASHBOARD_REFRESH_SECONDS", REFRESH_SECONDS)
    csrf.init_app(app)

    from . import auth, views  # noqa: F401  (routes register on bp)

    app.register_blueprint(bp)
    app.add_url_rule("/", "home", lambda: redirect(url_for("dashboard.queue")))
