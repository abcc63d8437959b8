"""What every Twilio webhook shares: the signature check and the safe fallback answer."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import Request, Response, abort, current_app, request
from twilio.request_validator import RequestValidator

from ..engine.flow import SegmentBudget
from ..engine.segments import pack

log = logging.getLogger(__name__)

SMS_LIMIT = 1600  # Twilio's maximum body for one message
DEFAULT_BUDGET = SegmentBudget().per_text  # segments a text may take when no flow says (flows: segment_budget)


def public_url(req: Request, base_url: str) -> str:
    """The URL Twilio signed. Behind a proxy the app sees another host, so PUBLIC_BASE_URL wins."""
    if not base_url:
        return req.url
    query = req.query_string.decode("latin-1")
    return base_url + req.path + (f"?{query}" if query else "")


def signature_ok(req: Request, auth_token: str, base_url: str) -> bool:
    signature = req.headers.get("X-Twilio-Signature", "")
    if not auth_token or not signature:
        return False
    params = req.form if req.method == "POST" else {}
    return RequestValidator(auth_token).validate(public_url(req, base_url), params, signature)


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """403 for any request Twilio did not sign with our auth token."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = current_app.extensions["triage"].settings
        if not signature_ok(request, settings.twilio_auth_token, settings.public_base_url):
            log.warning("webhook.forbidden path=%s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def twiml(body: str) -> Response:
    return Response(body, status=200, mimetype="application/xml")


def split_for_sms(bodies: list[str], max_segments: int = DEFAULT_BUDGET, limit: int = SMS_LIMIT) -> list[str]:
    """The replies as the texts that go out (one <Message> each), in order: joined while the joined text
    stays within `max_segments` SMS segments (the flow's segment_budget), so each one a patient gets is
    no longer than a flow text may be. A reply too long on its own is split at blank lines; what is
    still past Twilio's 1 600 characters is cut there."""
    chunks: list[str] = []
    for text in pack(bodies, max_segments):
        chunks.extend(text[i:i + limit] for i in range(0, len(text), limit))
    return chunks
