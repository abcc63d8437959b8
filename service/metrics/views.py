"""GET /metrics in the Prometheus text format, only for `Authorization: Bearer <METRICS_TOKEN>`.

In-process counts (webhooks by route and status) live in prometheus_client; under gunicorn each worker
writes them to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it) and a scrape adds every worker's up. The
rest is read from the database at each scrape (collect.py).
"""

from __future__ import annotations

import hmac
import os
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest, multiprocess

from ..services import Services
from .collect import DatabaseMetrics

bp = Blueprint("metrics", __name__)

# registry=None: registered into each scrape's own registry (or summed from every worker's files).
WEBHOOKS = Counter("triage_webhooks", "Twilio webhooks answered, by route and HTTP status", ["route", "status"],
                   registry=None)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


@bp.after_app_request
def count_webhook(response: Response) -> Response:
    if request.path.startswith("/twilio/"):
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        WEBHOOKS.labels(route=route, status=str(response.status_code)).inc()
    return response


@bp.get("/metrics")
def metrics() -> Any:
    svc: Services = current_app.extensions["triage"]
    token = svc.settings.metrics_token
    if not token:
        abort(404)  # off unless a token is set
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("a bearer token is required\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(WEBHOOKS)
    registry.register(DatabaseMetrics(svc, current_app.extensions["triage.timers"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
