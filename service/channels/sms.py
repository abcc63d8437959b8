"""POST /twilio/sms: Twilio's incoming-message webhook, answered with TwiML."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from ..engine.keywords import Keyword, match_keyword
from ..engine.render import localize
from ..engine.text import clean_for_storage
from ..escalation import nurse_sms
from ..media import MAX_MEDIA, Media
from ..phones import to_e164
from ..runtime.sms import receive_sms
from ..services import Services
from ..spool.keep import keep_request
from ..whatsapp.inbound import channel_of, off_reply
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


@dataclass(frozen=True)
class InboundSms:
    """One incoming-message webhook, as the runtime needs it (the live webhook and the spool's replay alike)."""

    phone: str | None
    text: str
    sid: str | None
    opt_out_type: str  # Twilio's OptOutType (Advanced Opt-Out), lower case: stop | start | help | ""
    media: tuple[Media, ...]
    channel: str = "sms"  # or whatsapp (From=whatsapp:+1...): the same patient as their number


def read_inbound(form: Mapping[str, str], region: str) -> InboundSms:
    # Twilio's SIDs are "SM"/"MM" and 32 hex digits; anything else is cleaned as voice cleans CallSid
    # (Postgres refuses NUL characters, and the column holds 64).
    raw_sid = form.get("MessageSid") or form.get("SmsSid") or ""
    return InboundSms(phone=to_e164(form.get("From"), region), text=clean_for_storage(form.get("Body", "")),
                      sid=clean_for_storage(raw_sid, limit=64).strip() or None,
                      opt_out_type=(form.get("OptOutType") or "").strip().lower(), media=media_from_form(form),
                      channel=channel_of(form.get("From")))


def media_from_form(form: Mapping[str, str]) -> tuple[Media, ...]:
    """An MMS: NumMedia, then MediaUrl<n> and MediaContentType<n> for each item (bad values are dropped)."""
    try:
        count = min(int(form.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for n in range(max(count, 0)):
        url = clean_for_storage(form.get(f"MediaUrl{n}", ""), limit=1000).strip()
        kind = clean_for_storage(form.get(f"MediaContentType{n}", ""), limit=100).strip().lower()
        if url.startswith("https://") or url.startswith("http://"):
            found.append(Media(n, url, kind or "application/octet-stream"))
    return tuple(found)


def answered_by_twilio(svc: Services, inbound: InboundSms) -> str | None:
    """Twilio's Advanced Opt-Out answers STOP, START and HELP itself and says so (OptOutType): the opt-out or
    opt-in is still recorded here, but that one confirmation is not sent twice."""
    kind = inbound.opt_out_type
    return kind if svc.settings.advanced_opt_out and kind in ("stop", "start", "help") else None


def fallback_replies(svc: Services, inbound: InboundSms, *, staff: bool) -> tuple[list[str], str]:
    """What a text is answered when the database cannot be reached (no query: the flow and roster are in
    memory), and what that was, for the spool's replay: the safe text, or a STOP's confirmation (carriers
    require it; the opt-out is recorded when the spool is replayed), or the nurse's "not done"."""
    if staff:
        return [nurse_sms.FAILED], "staff"
    if match_keyword(inbound.text) is Keyword.stop:
        if answered_by_twilio(svc, inbound) == "stop":
            return [], "stop"
        flow = svc.flows.current().flow
        return [localize(flow.messages.stop, language, svc.context) for language in flow.languages], "stop"
    return [fallback_text(svc)], "trouble"


def messages_twiml(svc: Services, replies: list[str]) -> Response:
    response = MessagingResponse()
    # One <Message> per text, each within the flow's segment budget (several short texts, in order).
    for chunk in split_for_sms(replies, svc.flows.current().flow.segment_budget.per_text):
        response.message(chunk)
    return twiml(str(response))


@bp.post("/twilio/sms")
@twilio_signed
def incoming_sms():  # type: ignore[no-untyped-def]
    svc: Services = current_app.extensions["triage"]
    inbound = read_inbound(request.form, svc.settings.default_region)
    if inbound.channel == "whatsapp" and not svc.settings.whatsapp_enabled:
        return messages_twiml(svc, [off_reply(svc)])  # not triaged, nothing kept: the clinic's number and 911
    nurse = svc.roster.staff_by_phone(inbound.phone)  # a roster number is never triaged as a patient
    try:
        if nurse is not None:
            replies = nurse_sms.receive(svc, nurse=nurse, text=inbound.text, sid=inbound.sid)
        else:
            replies = receive_sms(svc, phone=inbound.phone, text=inbound.text, sid=inbound.sid,
                                  answered_by_twilio=answered_by_twilio(svc, inbound), media=inbound.media,
                                  channel=inbound.channel).replies
    except Exception:
        # Never a 500 to Twilio (the patient would hear nothing): log without content, answer safely, and
        # keep the text on disk for the spool's replay (Twilio will not send it again after a 200).
        log.exception("sms.failed sid=%s", inbound.sid)
        replies, answered = fallback_replies(svc, inbound, staff=nurse is not None)
        keep_request(svc, "sms", answered)
    return messages_twiml(svc, replies)
