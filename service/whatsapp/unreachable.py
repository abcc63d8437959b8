"""A text that could not go to a patient on WhatsApp (outside the 24-hour window with no template, WhatsApp
turned off, or Twilio refused it): the nurse is told, never left believing the patient got it.

An outbox failure hook. The row already says `failed` with its reason; this adds the case event, and texts
the nurse who has the case (or was paged for it). A patient with no open case (a check-in after home care)
gets one in the clinic's queue, nobody woken, so the dashboard shows that they could not be reached.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.twilio_errors import WHATSAPP_OUTSIDE_WINDOW
from ..engine.flow import Level
from ..escalation.cases import audit
from ..models import Escalation, Message, Patient
from ..outbox.outbound import SendError, queue_sms
from ..phones import pretty
from ..statuses import OPEN_STATUSES, CaseStatus
from .inbound import WHATSAPP

log = logging.getLogger(__name__)

EVENT = "not_reached_on_whatsapp"
QUEUE_LEVEL = Level.seen_within_3_days  # the clinic's queue: seen on the dashboard, nobody paged
WHAT = {"checkin": "the check-in", "relay": "the nurse's message", "notice": "the notice", "reply": "the reply",
        "reminder": "the reminder", "advice": "the advice from the call"}


def tell_nurse(session: Session, message: Message, error: SendError, now: datetime) -> None:
    if message.channel != WHATSAPP or message.direction != "out" or message.patient_id is None:
        return
    patient = session.get(Patient, message.patient_id)
    if patient is None or message.to_phone != patient.phone:
        return
    what = f"{WHAT.get(message.kind, 'the text')} ({message.key or message.kind})"
    why = _why(error)
    case = _open_case(session, message, patient) or _queue_case(session, message, patient, now)
    audit(session, case, EVENT, now, detail=f"{what} not sent: {why}")
    case.updated_at = now
    if case.nurse_phone:
        body = (f"Case {case.id}: could not reach the patient on WhatsApp: {what} was not sent ({why}). "
                f"Please call them: {pretty(patient.phone)}.")
        queue_sms(session, to=case.nurse_phone, body=body, kind="notice", now=now, patient_id=patient.id,
                  conversation_id=case.conversation_id, escalation_id=case.id)
    log.warning("whatsapp.not_reached message_id=%s case=%s code=%s", message.id, case.id, error.code)


def _why(error: SendError) -> str:
    if error.reason.startswith(("outside", "WhatsApp")):
        return error.reason  # the rule's own words (window.py)
    if error.code == WHATSAPP_OUTSIDE_WINDOW:
        return "Twilio refused it: outside WhatsApp's 24-hour window (error 63016)"
    return f"Twilio refused it: {error}"


def _open_case(session: Session, message: Message, patient: Patient) -> Escalation | None:
    case = session.get(Escalation, message.escalation_id) if message.escalation_id else None
    if case is not None and case.status in OPEN_STATUSES:
        return case
    return session.scalars(select(Escalation).where(Escalation.patient_id == patient.id,
                                                    Escalation.status.in_(OPEN_STATUSES))
                           .order_by(Escalation.id.desc()).limit(1)).first()


def _queue_case(session: Session, message: Message, patient: Patient, now: datetime) -> Escalation:
    case = Escalation(patient_id=patient.id, conversation_id=message.conversation_id, level=QUEUE_LEVEL.value,
                      disposition=QUEUE_LEVEL.disposition, red_flags=[], quotes=[],
                      reason="could not reach the patient on WhatsApp", status=CaseStatus.open, created_at=now,
                      updated_at=now)
    session.add(case)
    session.flush()
    audit(session, case, "opened", now, detail=f"{QUEUE_LEVEL.value}: could not reach the patient on WhatsApp")
    return case
