"""Escalations: opened (and written) before any page is sent; every change goes in the audit trail.

Lifecycle: open -> paged -> acknowledged -> resolved. A page sets `next_action_at` (the ack timer);
timers.py follows a page nobody acknowledged: the same nurse again, then down the roster's chain,
then the fallback number and a word to the patient (`exhaust`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..engine.flow import LEVEL_WORDS, Flow, Level
from ..engine.render import localize
from ..engine.state import Escalate, Result
from ..engine.state import Message as Said
from ..models import Conversation, Escalation, EscalationEvent, Message, Patient
from ..outbox.outbound import URGENT_KINDS, queue_call, queue_sms
from ..phones import pretty
from ..services import Services
from ..statuses import OPEN_STATUSES, CaseStatus, MessageStatus

log = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}
FORWARDED = "escalation.forwarded"  # session.info key: case id -> forward queued in this transaction
PAGED = "escalation.paged"  # session.info key: cases paged in this transaction (the page quotes the text)
QUOTE_LIMIT = 400


def audit(session: Session, case: Escalation, event: str, now: datetime, actor: str = "system",
          detail: str = "") -> None:
    session.add(EscalationEvent(escalation_id=case.id, at=now, event=event, actor=actor, detail=detail))


def first_contact(case: Escalation, now: datetime, via: str) -> None:
    """A nurse reached the patient (a relayed text, a call that connected): only the first time counts."""
    if case.first_contact_at is None:
        case.first_contact_at, case.first_contact_via = now, via


def open_case_for(session: Session, conversation_id: int) -> Escalation | None:
    return session.scalars(
        select(Escalation).where(Escalation.conversation_id == conversation_id,
                                 Escalation.status.in_(OPEN_STATUSES))
        .order_by(Escalation.id.desc()).limit(1)
    ).first()


ESCALATIONS = Escalation.__table__
# Read with the rest of an inbound text's context (conversations.READ_TURN).
LATEST_OPEN_CASE = (select(ESCALATIONS.c.id)
                    .where(ESCALATIONS.c.patient_id == bindparam("patient_id"), ESCALATIONS.c.status.in_(OPEN_STATUSES))
                    .order_by(ESCALATIONS.c.id.desc()).limit(1))


def escalate(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
             action: Escalate, now: datetime) -> Escalation:
    """Open a case (or raise the open one) and queue its page in the same transaction."""
    case = open_case_for(session, conversation.id)
    raised = False
    if case is None:
        case = Escalation(patient_id=patient.id, conversation_id=conversation.id, level=action.level.value,
                          disposition=action.level.disposition, red_flags=list(action.red_flags),
                          quotes=list(action.quotes), reason=action.reason, status=CaseStatus.open, created_at=now,
                          updated_at=now)
        session.add(case)
        session.flush()
        audit(session, case, "opened", now, detail=f"{action.level.value}: {action.reason}")
        log.info("escalation.opened case=%s level=%s", case.id, case.level)
    else:
        raised = _merge(session, case, action, now)
    if not Level(case.level).pages_nurse:
        return case
    if case.status == CaseStatus.open:
        page(svc, session, flow, case, patient, now)
    elif raised and case.status == CaseStatus.paged:
        # More urgent now: page at once with the new urgency; the faster timer starts again (from the
        # top of the chain if it had already run out).
        case.repages_done = 0
        if case.next_action_at is None:
            case.chain_position = 0
        page(svc, session, flow, case, patient, now, why="RAISED.")
    elif raised and case.status == CaseStatus.acknowledged and case.nurse_phone:
        body = "RAISED. " + page_text(flow, case, patient, _channel(session, case))
        _queue_case_text(session, case, case.nurse_phone, body, "page", now)
        audit(session, case, "owner_told", now, detail="case raised")
    return case


def _merge(session: Session, case: Escalation, action: Escalate, now: datetime) -> bool:
    """Fold a new escalation into the open case. True when it is now more urgent."""
    case.red_flags = list(dict.fromkeys([*case.red_flags, *action.red_flags]))
    case.quotes = list(dict.fromkeys([*case.quotes, *action.quotes]))
    case.updated_at = now
    if action.level.rank > Level(case.level).rank:
        audit(session, case, "raised", now, detail=f"{case.level} -> {action.level.value}: {action.reason}")
        case.level, case.disposition = action.level.value, action.level.disposition
        return True
    audit(session, case, "patient_waiting", now, detail=action.reason)
    return False


def _channel(session: Session, case: Escalation) -> str:
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    return conversation.channel if conversation else "sms"


def page_text(flow: Flow, case: Escalation, patient: Patient, channel: str) -> str:
    level = Level(case.level)
    head = "URGENT" if level.disposition == "emergency" else "Callback"
    flags = "; ".join(flow.red_flags[f].label for f in case.red_flags if f in flow.red_flags)
    lines = [f"{head} case {case.id} ({LEVEL_WORDS[level]}): {flags or case.reason}."]
    if case.quotes:
        lines.append("Patient said: " + " / ".join(f'"{q}"' for q in case.quotes) + ".")
    language = LANGUAGE_NAMES.get(patient.language, patient.language)
    via = {"voice": "voice call", "whatsapp": "WhatsApp"}.get(channel, "text")
    speaks = f" Speaks {language}." if patient.language != "en" else ""
    lines.append(f"Patient {pretty(patient.phone)} ({via}).{speaks} Reply ACK {case.id} to take it.")
    return " ".join(lines)


def page(svc: Services, session: Session, flow: Flow, case: Escalation, patient: Patient, now: datetime,
         *, why: str = "") -> None:
    """Page the nurse at the case's place in the chain and start the ack timer; past its end, exhaust."""
    chain = svc.roster.chain(now)
    if case.chain_position >= len(chain):
        exhaust(svc, session, flow, case, patient, now)
        return
    nurse = chain[case.chain_position]
    body = page_text(flow, case, patient, _channel(session, case))
    _queue_case_text(session, case, nurse.phone, f"{why} {body}" if why else body, "page", now)
    case.status = CaseStatus.paged if case.status == CaseStatus.open else case.status
    case.nurse_phone = nurse.phone
    case.pages_sent += 1
    case.paged_at = case.paged_at or now  # the first page: what time to acknowledge is measured against
    wait = svc.roster.ack_timeout_for(case.disposition)
    case.next_action_at = now + wait
    case.updated_at = now
    audit(session, case, "paged", now, detail=f"{nurse.name}: chain step {case.chain_position + 1} of {len(chain)}, "
          f"page {case.repages_done + 1} of {svc.roster.repages + 1}; next step in {_minutes(wait)}")


def exhaust(svc: Services, session: Session, flow: Flow, case: Escalation, patient: Patient,
            now: datetime) -> None:
    """No nurse acknowledged: alert the fallback line, and tell the patient to call 911 or the clinic.

    The case stays in the queue, so any nurse (or the fallback, by SMS) can still take it.
    """
    case.next_action_at = None
    case.updated_at = now
    case.status = CaseStatus.paged if case.status == CaseStatus.open else case.status
    audit(session, case, "chain_exhausted", now, detail=f"{case.pages_sent} pages, none acknowledged")
    log.critical("escalation.chain_exhausted case=%s disposition=%s pages=%s", case.id, case.disposition,
                 case.pages_sent)
    fallback = svc.roster.fallback
    if fallback is None:
        audit(session, case, "no_fallback", now, detail="the roster has no fallback number")
    else:
        body = f"NO NURSE ANSWERED. {page_text(flow, case, patient, _channel(session, case))}"
        _queue_case_text(session, case, fallback.phone, body, "fallback", now)
        queue_call(session, to=fallback.phone, say=fallback_words(svc, case, patient), kind="fallback_call",
                   now=now, patient_id=case.patient_id, escalation_id=case.id)
        audit(session, case, "fallback_alerted", now, detail=f"{fallback.name}: text and call")
    if tell_patient(svc, session, case, patient, "no_nurse_reached", now, kind="notice"):
        audit(session, case, "patient_told", now, detail="no_nurse_reached")


def fallback_words(svc: Services, case: Escalation, patient: Patient) -> str:
    """What the fallback line hears (staff, not a patient: English, from the roster's clinic)."""
    urgent = "an urgent" if case.disposition == "emergency" else "a"
    digits = " ".join(ch for ch in patient.phone if ch.isdigit()) if patient.phone else "not available"
    return (f"This is the {svc.settings.clinic_name} nurse line. No nurse has acknowledged {urgent} case, "
            f"number {case.id}. The patient's number is {digits}. Details are in a text message. "
            f"To take the case, text ACK {case.id} to this line.")


def tell_patient(svc: Services, session: Session, case: Escalation, patient: Patient, name: str, now: datetime,
                 kind: str, **values: str) -> bool:
    """A text to the patient in their language, from the flow's own messages (not if opted out)."""
    if patient.phone is None or patient.opted_out:
        return False
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    flow = svc.flows.current() if conversation is None else \
        svc.flows.pinned(session, conversation.flow_id, conversation.flow_version)
    body = localize(getattr(flow.flow.messages, name), patient.language, {**svc.context, **values})
    queue_sms(session, to=patient.phone, body=body, kind=kind, now=now, patient_id=patient.id,
              conversation_id=case.conversation_id, escalation_id=case.id, key=name)
    return True


def cancel_pending_alerts(session: Session, case: Escalation, keep_to: str | None = None) -> int:
    """A nurse owns the case (or it is closed): pages and fallback alerts not yet sent to anyone else
    (`keep_to`: the owner, who still wants e.g. a voicemail link) are moot."""
    query = update(Message).where(Message.escalation_id == case.id, Message.kind.in_(URGENT_KINDS),
                                  Message.direction == "out",
                                  Message.status.in_((MessageStatus.queued, MessageStatus.retry)))
    if keep_to is not None:
        query = query.where(Message.to_phone != keep_to)
    result = session.execute(query.values(status=MessageStatus.cancelled, next_attempt_at=None)
                             .execution_options(synchronize_session=False))
    return result.rowcount


def _queue_case_text(session: Session, case: Escalation, to: str, body: str, kind: str, now: datetime) -> Message:
    if kind == "page":
        session.info.setdefault(PAGED, set()).add(case.id)
    return queue_sms(session, to=to, body=body, kind=kind, now=now, patient_id=case.patient_id,
                     conversation_id=case.conversation_id, escalation_id=case.id)


def _forward_body(case: Escalation, patient: Patient, text: str) -> str:
    quote = text if len(text) <= QUOTE_LIMIT else text[:QUOTE_LIMIT] + "..."
    reach = f"Patient {pretty(patient.phone)}."
    if patient.opted_out or patient.phone is None:
        reach += " They cannot get texts: please call."
    return f'Case {case.id}: patient wrote: "{quote}". {reach} Reply MSG {case.id} <text> to answer.'


def forward(session: Session, conversation: Conversation, patient: Patient, quote: str, now: datetime) -> None:
    """The patient wrote again about an open case: the nurse who has it sees the words."""
    case = open_case_for(session, conversation.id)
    if case is None or case.nurse_phone is None:
        return
    _forward(session, case, patient, quote, now)


def _forward(session: Session, case: Escalation, patient: Patient, text: str, now: datetime) -> None:
    forwarded: dict[int, tuple[Message, str]] = session.info.setdefault(FORWARDED, {})
    if case.id in forwarded:  # one forward per inbound text: the fullest words win
        message, quoted = forwarded[case.id]
        if len(text) > len(quoted):
            message.body = _forward_body(case, patient, text)
            forwarded[case.id] = (message, text)
        return
    assert case.nurse_phone is not None
    message = _queue_case_text(session, case, case.nurse_phone, _forward_body(case, patient, text), "forward", now)
    forwarded[case.id] = (message, text)
    case.updated_at = now
    audit(session, case, "patient_wrote", now, detail="forwarded to nurse")


def relay_to_nurse(session: Session, case_id: int, patient_id: int, text: str, now: datetime) -> bool:
    """Every text a patient sends while a nurse has (or is paged for) their case reaches that nurse, once.
    The caller read the case (conversations.READ_TURN): most texts have none, and load nothing more."""
    if not text.strip() or case_id in session.info.get(PAGED, ()):  # a page sent now already quotes the text
        return False
    case, patient = session.get(Escalation, case_id), session.get(Patient, patient_id)
    if case is None or patient is None or case.nurse_phone is None:
        return False
    _forward(session, case, patient, text, now)
    return True


def reassure_if_with_nurse(svc: Services, flow: Flow, result: Result) -> Result:
    """With a nurse on the case, "reply NURSE for a nurse" is the wrong answer: say the nurse has the message."""
    if not any(m.key == "after_outcome" for m in result.messages):
        return result
    text = localize(flow.messages.open_emergency, result.state.language, svc.context)
    messages = [Said("open_emergency", text) if m.key == "after_outcome" else m for m in result.messages]
    return Result(result.state, messages, result.actions)


def _minutes(wait: timedelta) -> str:
    seconds = int(wait.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"
