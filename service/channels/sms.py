"""POST /twilio/sms: Twilio's incoming-message webhook, answered with TwiML."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from ..engine.render import localize
from ..engine.text import clean_for_storage
from ..escalation import nurse_sms
from ..phones import to_e164
from ..runtime.sms import receive_sms
from ..services import Services
from .twilio_http import split_for_sms, twilio_signed, twiml

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)


def fallback_text(svc: Services) -> str:
    """Every language the flow has: when the database is down we cannot look up which one the patient
    speaks. From the flow in memory (flows/shared/universal.yaml), no query."""
    flow = svc.flows.current().flow
    text = flow.messages.sms_trouble
    assert text is not None  # lint: every flow has it (it comes from universal.yaml)
    return " ".join(localize(text, language, svc.context) for language in flow.languages)


@bp.post("/twilio/sms")
@twilio_signed
def incoming_sms():  # type: ignore[no-untyped-def]
    svc: Services = current_app.extensions["triage"]
    phone = to_e164(request.form.get("From"), svc.settings.default_region)
    text = clean_for_storage(request.form.get("Body", ""))
    # Twilio's are "SM" and 32 hex digits; anything else is cleaned as voice cleans CallSid (Postgres
    # refuses NUL characters, and the column holds 64).
    raw_sid = request.form.get("MessageSid") or request.form.get("SmsSid") or ""
    sid = clean_for_storage(raw_sid, limit=64).strip() or None
    response = MessagingResponse()
    # Twilio's Advanced Opt-Out answers STOP, START and HELP itself and says so (OptOutType): the
    # opt-out or opt-in is still recorded here, but that one confirmation is not sent twice.
    opt_out_type = (request.form.get("OptOutType") or "").strip().lower()
    answered = opt_out_type if svc.settings.advanced_opt_out and opt_out_type in ("stop", "start", "help") else None
    nurse = svc.roster.staff_by_phone(phone)  # a roster number is never triaged as a patient
    try:
        if nurse is not None:
            replies = nurse_sms.receive(svc, nurse=nurse, text=text, sid=sid)
        else:
            replies = receive_sms(svc, phone=phone, text=text, sid=sid, answered_by_twilio=answered).replies
    except Exception:
        # Never a 500 to Twilio (the patient would hear nothing): log without content, answer safely.
        log.exception("sms.failed sid=%s", sid)
        replies = [nurse_sms.FAILED if nurse is not None else fallback_text(svc)]
    # One <Message> per text, each within the flow's segment budget (several short texts, in order).
    for chunk in split_for_sms(replies, svc.flows.current().flow.segment_budget.per_text):
        response.message(chunk)
    return twiml(str(response))
