"""Escalations: opened (and written) before any page is sent; every change goes in the audit trail."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.flow import Flow, Level
from ..engine.state import Escalate
from ..models import Conversation, Escalation, EscalationEvent, Patient
from ..outbound import queue_sms
from ..phones import pretty
from ..services import Services

log = logging.getLogger(__name__)

OPEN_STATUSES = ("open", "paged", "acknowledged")
LEVEL_WORDS = {
    Level.call_911_now: "CALL 911 NOW",
    Level.ed_now: "ED NOW",
    Level.seen_today: "see today",
    Level.seen_within_24h: "see within 24h",
    Level.seen_within_3_days: "see within 3 days",
    Level.home_care: "home care",
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def audit(session: Session, case: Escalation, event: str, now: datetime, actor: str = "system",
          detail: str = "") -> None:
    session.add(EscalationEvent(escalation_id=case.id, at=now, event=event, actor=actor, detail=detail))


def open_case_for(session: Session, conversation_id: int) -> Escalation | None:
    return session.scalars(
        select(Escalation).where(Escalation.conversation_id == conversation_id,
                                 Escalation.status.in_(OPEN_STATUSES))
        .order_by(Escalation.id.desc()).limit(1)
    ).first()


def escalate(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
             action: Escalate, now: datetime) -> Escalation:
    """Open a case (or raise the open one) and queue its page in the same transaction."""
    case = open_case_for(session, conversation.id)
    if case is None:
        case = Escalation(patient_id=patient.id, conversation_id=conversation.id, level=action.level.value,
                          severity=action.level.disposition, red_flags=list(action.red_flags),
                          quotes=list(action.quotes), reason=action.reason, status="open", created_at=now,
                          updated_at=now)
        session.add(case)
        session.flush()
        audit(session, case, "opened", now, detail=f"{action.level.value}: {action.reason}")
        log.info("escalation.opened case=%s level=%s", case.id, case.level)
    else:
        _merge(session, case, action, now)
    if Level(case.level).pages_nurse:
        page(svc, session, flow, case, patient, now)
    return case


def _merge(session: Session, case: Escalation, action: Escalate, now: datetime) -> None:
    case.red_flags = list(dict.fromkeys([*case.red_flags, *action.red_flags]))
    case.quotes = list(dict.fromkeys([*case.quotes, *action.quotes]))
    if action.level.rank > Level(case.level).rank:
        audit(session, case, "raised", now, detail=f"{case.level} -> {action.level.value}: {action.reason}")
        case.level, case.severity = action.level.value, action.level.disposition
    else:
        audit(session, case, "patient_waiting", now, detail=action.reason)
    case.updated_at = now


def page_text(flow: Flow, case: Escalation, patient: Patient, channel: str) -> str:
    level = Level(case.level)
    head = "URGENT" if level.disposition == "emergency" else "Callback"
    flags = "; ".join(flow.red_flags[f].label for f in case.red_flags if f in flow.red_flags)
    lines = [f"{head} case {case.id} ({LEVEL_WORDS[level]}): {flags or case.reason}."]
    if case.quotes:
        lines.append("Patient said: " + " / ".join(f'"{q}"' for q in case.quotes) + ".")
    language = LANGUAGE_NAMES.get(patient.language, patient.language)
    via = "voice call" if channel == "voice" else "text"
    speaks = f" Speaks {language}." if patient.language != "en" else ""
    lines.append(f"Patient {pretty(patient.phone)} ({via}).{speaks} Reply ACK {case.id} to take it.")
    return " ".join(lines)


def page(svc: Services, session: Session, flow: Flow, case: Escalation, patient: Patient, now: datetime) -> None:
    chain = svc.roster.chain(now)
    if not chain:
        audit(session, case, "page_impossible", now, detail="no one on call in the roster")
        log.critical("escalation.no_one_on_call case=%s", case.id)
        return
    nurse = chain[min(case.chain_position, len(chain) - 1)]
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    channel = conversation.channel if conversation else "sms"
    queue_sms(session, to=nurse.phone, body=page_text(flow, case, patient, channel), kind="page", now=now,
              patient_id=patient.id, conversation_id=case.conversation_id, escalation_id=case.id)
    case.status = "paged" if case.status == "open" else case.status
    case.nurse_phone = nurse.phone
    case.pages_sent += 1
    case.updated_at = now
    audit(session, case, "paged", now, detail=nurse.name)


def forward(session: Session, conversation: Conversation, patient: Patient, quote: str, now: datetime) -> None:
    """The patient wrote again about an open case: the nurse who has it sees the words."""
    case = open_case_for(session, conversation.id)
    if case is None or case.nurse_phone is None:
        return
    body = f"Case {case.id}: patient wrote again: \"{quote}\". Patient {pretty(patient.phone)}."
    queue_sms(session, to=case.nurse_phone, body=body, kind="forward", now=now, patient_id=patient.id,
              conversation_id=conversation.id, escalation_id=case.id)
    audit(session, case, "patient_wrote", now, detail="forwarded to nurse")
