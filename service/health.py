"""GET /healthz for the platform's health check: the process answers and the database does too."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    services = current_app.extensions["triage"]
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        log.error("health.database_unavailable")
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok", flows=[f.flow.id for f in services.flows.all_current()])
