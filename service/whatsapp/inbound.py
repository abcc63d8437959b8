"""A message that came in on WhatsApp: which channel a sender is on, what the patient's row remembers of it,
and the one answer while WhatsApp is off."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from ..engine.render import localize
from ..runtime.conversation import PATIENTS, PatientRow
from ..services import Services

PREFIX = "whatsapp:"  # Twilio's channel address: From=whatsapp:+15551234567
WHATSAPP, SMS = "whatsapp", "sms"
REMEMBER = update(PATIENTS).where(PATIENTS.c.id == bindparam("b_id")).values(messaging_channel=bindparam("b_channel"))
REMEMBER_WHATSAPP = (update(PATIENTS).where(PATIENTS.c.id == bindparam("b_id"))
                     .values(messaging_channel=WHATSAPP, whatsapp_last_at=bindparam("b_at")))


def channel_of(sender: str | None) -> str:
    """The channel a webhook's `From` is on: the same person's number either way (to_e164 drops the prefix)."""
    return WHATSAPP if (sender or "").strip().lower().startswith(PREFIX) else SMS


def remember_channel(session: Session, patient: PatientRow, channel: str, now: datetime) -> None:
    """The patient's current messaging channel is the one they last wrote on; a WhatsApp message also opens
    WhatsApp's 24-hour window again. One UPDATE for a WhatsApp message, none for an SMS from an SMS patient."""
    if channel == WHATSAPP:
        session.connection().execute(REMEMBER_WHATSAPP, {"b_id": patient.id, "b_at": now})
    elif patient.messaging_channel != channel:
        session.connection().execute(REMEMBER, {"b_id": patient.id, "b_channel": channel})
    patient.messaging_channel = channel


def off_reply(svc: Services) -> str:
    """While WhatsApp is off: the clinic's number and 911 in every language of the flow (we do not know which
    the sender reads), from the flow in memory; nothing is stored and nothing is triaged."""
    flow = svc.flows.current().flow
    text = flow.messages.whatsapp_off
    assert text is not None  # from flows/shared/universal.yaml, which every flow includes
    return " ".join(localize(text, language, svc.context) for language in flow.languages)
