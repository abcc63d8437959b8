"""Twilio's Fallback URLs: what Twilio asks when the webhook itself failed or timed out. They answer
without the database (the flow, the roster and the settings are in memory), still check Twilio's signature,
and keep each request in the spool for its replay.

    POST /twilio/fallback/sms     the safe text in every language (or a STOP's confirmation)
    POST /twilio/fallback/voice   the flow's voice_trouble in every language, a try at the on-call nurse
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from ..channels import voice
from ..channels.sms import fallback_replies, messages_twiml, read_inbound
from ..channels.twilio_http import twilio_signed, twiml
from ..services import Services
from .keep import keep_request

bp = Blueprint("spool", __name__)


@bp.post("/twilio/fallback/sms")
@twilio_signed
def fallback_sms():  # type: ignore[no-untyped-def]
    svc: Services = current_app.extensions["triage"]
    inbound = read_inbound(request.form, svc.settings.default_region)
    replies, answered = fallback_replies(svc, inbound, staff=svc.roster.staff_by_phone(inbound.phone) is not None)
    keep_request(svc, "sms", answered)
    return messages_twiml(svc, replies)


@bp.post("/twilio/fallback/voice")
@twilio_signed
def fallback_voice():  # type: ignore[no-untyped-def]
    svc: Services = current_app.extensions["triage"]
    keep_request(svc, "voice", "trouble")
    return twiml(voice.fallback(svc))
