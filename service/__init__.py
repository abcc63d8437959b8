"""Nurse-line triage service: `create_app()` builds the Flask app with every part wired in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from . import logs
from .cli import register
from .clock import build_scheduler
from .db import make_engine, make_session_factory
from .escalation.roster_store import RosterStore
from .features import FEATURES, timers
from .flowstore import FlowStore
from .logs import configure_logging
from .migrate import upgrade
from .outbox.outbound import Outbox, Transport
from .outbox.transports import make_transport
from .services import Services, utc_now
from .settings import Settings


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
               transport: Transport | None = None) -> Flask:
    settings = settings or Settings.from_env()
    problems = settings.problems()
    if problems:
        raise RuntimeError("bad settings:\n" + "\n".join(problems))
    configure_logging()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(SECRET_KEY=settings.secret_key, MAX_CONTENT_LENGTH=256 * 1024)
    logs.init_app(app)  # a request id on every log line and every row a request writes
    if settings.public_base_url.startswith("https://"):
        _strict_transport(app)

    engine = make_engine(settings.database_url, settings.keyring())
    if settings.auto_migrate:
        upgrade(engine)
    factory = make_session_factory(engine)
    clock = clock or utc_now
    outbox = Outbox(factory, transport or make_transport(settings), clock)
    services = Services(settings=settings, engine=engine, factory=factory, flows=FlowStore(settings.flows_dir),
                        rosters=RosterStore(settings.roster_file), outbox=outbox, clock=clock)
    outbox.page_factory = services.page_sessions
    app.extensions["triage"] = services
    # The commands that build a scratch app (simulate, flows test) take the factory from here: importing
    # it from this package would be an import cycle (this package registers those commands).
    app.extensions["triage.create_app"] = create_app
    app.extensions["triage.timers"] = timers()  # every timer the clock polls (metrics: the clock's lag per timer)
    for feature in FEATURES:  # each package's routes, commands and hooks (features.py)
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
        for command in feature.commands:
            app.cli.add_command(command)
        if feature.install is not None:
            feature.install(services)
        if feature.init_app is not None:
            feature.init_app(app)
    register(app)  # the core commands: db, flows, simulate, clock
    if settings.run_clock:
        _start_clock_with_first_request(app, services)
    return app


HSTS = "max-age=31536000; includeSubDomains"  # a year: browsers come back over HTTPS only


def _strict_transport(app: Flask) -> None:
    """Served at an https address: tell browsers never to use plain HTTP here (OWASP ASVS 9.1)."""

    @app.after_request
    def _hsts(response):  # type: ignore[no-untyped-def]
        response.headers["Strict-Transport-Security"] = HSTS
        return response


def _start_clock_with_first_request(app: Flask, services: Services) -> None:
    """Dev mode: web and clock in one process. Started by the first request, so CLI commands
    (which build the same app) never start a scheduler."""


    lock = threading.Lock()

    @app.before_request
    def _start_clock() -> None:
        if "triage_dev_clock" in app.extensions:
            return
        with lock:
            if "triage_dev_clock" not in app.extensions:
                scheduler = build_scheduler(services, blocking=False)
                scheduler.start()
                app.extensions["triage_dev_clock"] = scheduler
