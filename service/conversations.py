"""The runtime around the engine: one inbound text, end to end, in one transaction.

    lock the patient -> seen this webhook before? (answer the same) -> load or start the
    conversation -> engine.step -> save state, replies, escalations, check-ins -> commit
    -> pages and other REST sends go out after the commit (outbound.py)
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import nudges
from .checkins.schedule import cancel_pending, replied, schedule
from .db import transaction
from .engine.flow import Flow
from .engine.keywords import Keyword, match_keyword
from .engine.redflags import detect
from .engine.state import (
    DONE,
    CancelCheckins,
    Escalate,
    ForwardToNurse,
    OptIn,
    OptOut,
    Result,
    ScheduleCheckin,
    SetLanguage,
    State,
)
from .engine.step import step
from .escalation import cases
from .flowstore import FlowStore
from .models import Conversation, Message, Patient, WebhookReceipt
from .outbound import queued_in, record_reply
from .services import Services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """What one inbound text produced, for the channel to render."""

    replies: list[str]
    conversation_id: int | None


def lock_patient(session: Session, phone: str | None, now: datetime) -> Patient:
    """The patient row, created if new, locked for this transaction (Postgres: FOR UPDATE)."""
    if phone is None:  # hidden caller ID: a patient of their own, with nothing to text
        patient = Patient(phone=None, language="en", created_at=now)
        session.add(patient)
        session.flush()
        return patient
    locked = select(Patient).where(Patient.phone == phone).with_for_update()
    known = session.scalars(locked).first()  # most texts come from a known patient: one statement
    if known is not None:
        return known
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Patient).values(phone=phone, language="en", privacy_notice_sent=False, created_at=now)
                    .on_conflict_do_nothing(index_elements=["phone"]))
    return session.scalars(locked).one()


def receipt(session: Session, key: str | None) -> str | None:
    if key is None:
        return None
    row = session.get(WebhookReceipt, key)
    return row.response if row else None


def store_receipt(session: Session, key: str | None, response: str, now: datetime) -> None:
    if key is not None:
        session.add(WebhookReceipt(key=key, response=response, created_at=now))


def current_conversation(session: Session, flows: FlowStore, patient: Patient, channel: str,
                         now: datetime) -> Conversation:
    latest = session.scalars(
        select(Conversation).where(Conversation.patient_id == patient.id).order_by(Conversation.id.desc()).limit(1)
    ).first()
    if latest is not None:
        flow = flows.pinned(session, latest.flow_id, latest.flow_version).flow
        if latest.updated_at + flow.expiry > now:
            return latest
        if latest.status != DONE:
            latest.status = "expired"
    return start_conversation(session, flows, patient, channel, now)


def start_conversation(session: Session, flows: FlowStore, patient: Patient, channel: str, now: datetime,
                       call_sid: str | None = None) -> Conversation:
    loaded = flows.current()
    flows.remember(session, loaded, now)
    state = State(language=patient.language, privacy_notice_sent=patient.privacy_notice_sent)
    conversation = Conversation(patient_id=patient.id, flow_id=loaded.flow.id, flow_version=loaded.version,
                                channel=channel, call_sid=call_sid, state=state.to_json(), status=state.status,
                                started_at=now, updated_at=now)
    session.add(conversation)
    session.flush()
    return conversation


def flow_of(svc: Services, session: Session, conversation: Conversation) -> Flow:
    return svc.flows.pinned(session, conversation.flow_id, conversation.flow_version).flow


def record_inbound(session: Session, patient: Patient, conversation: Conversation | None, channel: str,
                   text: str, sid: str | None, now: datetime, kind: str = "answer") -> None:
    session.add(Message(patient_id=patient.id, conversation_id=conversation.id if conversation else None,
                        direction="in", channel=channel, kind=kind, body=text, status="received",
                        twilio_sid=sid, created_at=now))


def receive_sms(svc: Services, *, phone: str | None, text: str, sid: str | None) -> Turn:
    """Handle one inbound SMS from a patient. A repeated MessageSid gets the same answer, once."""
    now = svc.clock()
    key = f"sms:{sid}" if sid else None
    with transaction(svc.factory) as session:
        patient = lock_patient(session, phone, now)
        seen = receipt(session, key)
        if seen is not None:
            return Turn(json.loads(seen), None)
        conversation = current_conversation(session, svc.flows, patient, "sms", now)
        record_inbound(session, patient, conversation, "sms", text, sid, now)
        replies = advance(svc, session, conversation, patient, text, now)
        cases.relay_to_nurse(session, patient, text, now)  # the nurse on an open case sees every text, once
        bodies = [m for m in replies]
        store_receipt(session, key, json.dumps(bodies), now)
        conversation_id = conversation.id
        queued = queued_in(session)
    if queued:  # most texts queue nothing: no send, no extra transaction (the clock's sweep does retries)
        svc.dispatch()
    return Turn(bodies, conversation_id)


def advance(svc: Services, session: Session, conversation: Conversation, patient: Patient, text: str,
            now: datetime, channel: str = "sms") -> list[str]:
    """Run the engine on one text and apply everything it decided. Returns the reply bodies."""
    flow = flow_of(svc, session, conversation)
    state = State.from_json(conversation.state)
    if patient.opted_out and match_keyword(text) not in (Keyword.start, Keyword.help):
        _while_opted_out(svc, session, flow, conversation, patient, state, text, now)
        return []
    result = step(flow, state, text, svc.context)
    if channel == "sms":  # a nurse has the case: say the message went to them, not "reply NURSE"
        result = cases.reassure_if_with_nurse(svc, session, flow, patient, result)
    conversation.last_inbound_at = now  # before apply's flush: one UPDATE of the conversation, not two
    apply(svc, session, flow, conversation, patient, result, now)
    replied(session, patient, now)  # any text answers the check-in that is out: no reminder follows
    bodies = [m.text for m in result.messages]
    if bodies:
        record_reply(session, patient_id=patient.id, conversation_id=conversation.id, channel=channel,
                     body="\n\n".join(bodies), key=",".join(m.key for m in result.messages), now=now,
                     to=patient.phone)
    return bodies


def _while_opted_out(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
                     state: State, text: str, now: datetime) -> None:
    """No texts after STOP (carrier rules), but a red flag or a request for a nurse still reaches the
    nurse, who can call: an opt-out from texts is not an opt-out from care."""
    findings = detect(flow, text)
    if findings:
        action = Escalate(findings[0].level, flow.level_outcomes[findings[0].level], tuple(f.flag for f in findings),
                          "red flag texted by an opted-out patient", tuple(f.quote for f in findings))
        cases.escalate(svc, session, flow, conversation, patient, action, now)
    elif match_keyword(text) is Keyword.nurse:
        level = flow.outcome(flow.nurse_outcome).level
        action = Escalate(level, flow.nurse_outcome, (), "opted-out patient asked for a nurse (call, do not text)")
        cases.escalate(svc, session, flow, conversation, patient, action, now)


def apply(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
          result: Result, now: datetime) -> None:
    """Save the new state and carry out the engine's actions, all in the caller's transaction."""
    new = result.state
    conversation.state = new.to_json()
    conversation.status = new.status
    conversation.node = new.node
    conversation.outcome = new.outcome
    conversation.level = new.level.value if new.level else None
    conversation.disposition = new.level.disposition if new.level else None
    conversation.updated_at = now
    patient.privacy_notice_sent = patient.privacy_notice_sent or new.privacy_notice_sent
    nudges.arm(flow, conversation, new, now)
    for action in result.actions:
        if isinstance(action, Escalate):
            cases.escalate(svc, session, flow, conversation, patient, action, now)
        elif isinstance(action, ForwardToNurse):
            cases.forward(session, conversation, patient, action.quote, now)
        elif isinstance(action, CancelCheckins):
            cancel_pending(session, patient)
        elif isinstance(action, ScheduleCheckin):
            schedule(session, conversation, patient, action.ask, now + action.after, now)
        elif isinstance(action, OptOut):
            patient.opted_out_at = now
            cancel_pending(session, patient)
        elif isinstance(action, OptIn):
            patient.opted_out_at = None
        elif isinstance(action, SetLanguage):
            patient.language = action.language
    session.flush()
