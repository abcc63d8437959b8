"""POST /twilio/status: Twilio's message status callback (set on every text we send)."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from ..outbox import delivery
from ..services import Services
from .twilio_http import twilio_signed, twiml

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__)

SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")  # SM... (SMS) or MM... (MMS)


@bp.post("/twilio/status")
@twilio_signed
def message_status():  # type: ignore[no-untyped-def]
    svc: Services = current_app.extensions["triage"]
    sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip().lower()
    if not SID.fullmatch(sid) or not status:
        log.warning("status.malformed")
        return "MessageSid and MessageStatus are required\n", 400, {"Content-Type": "text/plain"}
    code = request.form.get("ErrorCode", "").strip()
    error_code = int(code) if code.isdigit() and len(code) <= 6 else None
    try:
        delivery.record_status(svc, sid=sid, status=status[:16], error_code=error_code)
    except Exception:  # the database is down, say: Twilio may retry; never a half-written status
        log.exception("status.failed sid=%s", sid)
        return "try again later\n", 503, {"Content-Type": "text/plain"}
    return twiml(str(MessagingResponse()))
