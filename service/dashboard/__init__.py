"""The nurses' dashboard: queue, case pages, on call, flow diagrams, audit log, accounts (server-rendered,
no JS build).

Sessions live in the database (sessions.py; the cookie holds only a random token) and end at logout,
after DASHBOARD_IDLE_MINUTES without activity, DASHBOARD_SESSION_HOURS after sign-in, or when an admin
ends them; sign-in is throttled (throttle.py) and takes a TOTP code where required (twofactor.py).
CSRF is checked on every dashboard form (Flask-WTF). The Twilio webhooks are not CSRF-checked: Twilio's
signature protects them, so the check is switched off by default and switched on in this blueprint only.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, redirect, url_for

from .blueprint import bp, csrf

REFRESH_SECONDS = 15  # how often the queue page fetches its rows
SESSION_POLL_SECONDS = 60  # how often a page asks how long its session has left (at most)


def init_dashboard(app: Flask) -> None:
    settings = app.extensions["triage"].settings
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only X-Forwarded-For, and only the hops we run: the client address that login throttling
        # counts and the audit log shows. A client cannot forge it past the last trusted proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
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
    app.config.setdefault("DASHBOARD_SESSION_POLL_SECONDS", SESSION_POLL_SECONDS)
    csrf.init_app(app)
    from .sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface()

    from . import accounts, auth, login, media, views  # noqa: F401  (routes register on bp)

    app.register_blueprint(bp)
    app.add_url_rule("/", "home", lambda: redirect(url_for("dashboard.queue")))
