"""Logging: one event per line, key=value, each tagged with the request that caused it.

Callers log ids and masked numbers (phones.mask), never message bodies or answers. Two more guards:
the libraries that would log SQL parameters or HTTP details are held at WARNING, and every line is
scrubbed of anything shaped like a phone number (a Twilio error message may quote one).

The request id: Twilio's I-Twilio-Idempotency-Token (the same on Twilio's retries), else the
MessageSid or CallSid, else the platform router's X-Request-Id, else a new one. It is in every line
logged while the request is handled, in the X-Request-Id response header (and so in gunicorn's access
line), and on every `messages` row the request wrote, so the outbox's later send or retry of a page
logs the id of the webhook that caused it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, Response, g, request

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")  # nothing that could forge or break a log line
HEADER = "X-Request-Id"
# Loggers that would print SQL parameters (numbers, texts), HTTP headers or noise at INFO/DEBUG.
QUIET = ("sqlalchemy", "twilio.http_client", "urllib3", "alembic.runtime.plugins", "apscheduler")
_PHONE_SHAPES = re.compile(
    r"\+\d[\d ()-]{6,20}\d"  # +12125550123, +1 212-555-0123
    r"|(?<![\w+-])\d{10,11}(?![\w-])"  # 2125550123
    r"|(?<![\w-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])"  # (212) 555-0123, 212.555.0123
)


def current_request_id() -> str | None:
    return _request_id.get()


@contextmanager
def request_id(value: str | None) -> Iterator[None]:
    """Tag every line logged inside the block (and rows written) with `value`."""
    token = _request_id.set(value)
    try:
        yield
    finally:
        _request_id.reset(token)


def bind_request_id(value: str | None) -> None:
    """Tag what follows in this context; the caller restores the previous id (see `request_id`)."""
    _request_id.set(value)


def new_request_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def request_id_from(headers: Mapping[str, str], form: Mapping[str, str]) -> str:
    for candidate in (headers.get("I-Twilio-Idempotency-Token"), form.get("MessageSid"), form.get("CallSid"),
                      headers.get(HEADER)):
        if candidate and _SAFE_ID.fullmatch(candidate):
            return candidate
    return new_request_id()


def redact(line: str) -> str:
    return _PHONE_SHAPES.sub("[number]", line)


class LineFormatter(logging.Formatter):
    """`ts=... level=... logger=... request_id=... event=...`, tracebacks folded onto the same line."""

    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("ts=%(asctime)s.%(msecs)03dZ level=%(levelname)s logger=%(name)s "
                         "request_id=%(request_id)s event=%(message)s", datefmt="%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return redact(super().format(record)).replace("\r", "").replace("\n", " \\n ")


def _install_record_factory() -> None:
    base = logging.getLogRecordFactory()
    if getattr(base, "_triage", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:  # type: ignore[no-untyped-def]
        record = base(*args, **kwargs)
        record.request_id = _request_id.get() or "-"
        return record

    factory._triage = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def configure_logging() -> None:
    _install_record_factory()
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    root = logging.getLogger()
    if getattr(root, "_triage_configured", False):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter())
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    root._triage_configured = True  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """A request id for every request, set before any view runs and cleared after."""

    @app.before_request
    def _bind() -> None:
        form = request.form if request.mimetype == "application/x-www-form-urlencoded" else {}
        g.request_id_token = _request_id.set(request_id_from(request.headers, form))

    @app.after_request
    def _header(response: Response) -> Response:
        value = _request_id.get()
        if value:
            response.headers[HEADER] = value
        return response

    @app.teardown_request
    def _unbind(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            _request_id.reset(token)
