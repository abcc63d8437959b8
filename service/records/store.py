"""One conversation's record, read from the database: the conversation, its patient, the flow version it ran
on (pinned), its messages, its cases and their events. The summary and the FHIR export are built from it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..engine.flow import LEVEL_WORDS
from ..engine.loader import LoadedFlow
from ..engine.state import State
from ..escalation.cases import LANGUAGE_NAMES
from ..models import Conversation, Escalation, EscalationEvent, Message, Patient, User
from ..services import Services
from .summary import Said, Summary, summarize


@dataclass(frozen=True)
class ConversationRecord:
    conversation: Conversation
    patient: Patient
    loaded: LoadedFlow  # the version the conversation started on
    messages: tuple[Message, ...]  # in the order they were written
    cases: tuple[Escalation, ...]
    events: tuple[EscalationEvent, ...]
    staff: dict[str, str]  # a dashboard username, a roster nurse's name or phone -> the name to show
    users: frozenset[str] = frozenset()  # the dashboard's usernames (a case acknowledged on the dashboard)

    @property
    def state(self) -> State:
        return State.from_json(self.conversation.state)

    @property
    def said(self) -> tuple[Said, ...]:
        return tuple(_said(m, self.patient) for m in self.messages)


def _said(message: Message, patient: Patient) -> Said:
    if message.direction == "in":
        with_patient = message.from_phone is None or message.from_phone == patient.phone
    else:
        with_patient = message.to_phone is None or message.to_phone == patient.phone
    return Said(message.id, message.created_at, message.direction, message.channel, message.kind, message.key,
                message.body, with_patient)


def load(svc: Services, session: Session, conversation_id: int) -> ConversationRecord | None:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    patient = session.get(Patient, conversation.patient_id)
    assert patient is not None
    cases = tuple(session.scalars(select(Escalation).where(Escalation.conversation_id == conversation.id)
                                  .order_by(Escalation.id)))
    condition = Message.conversation_id == conversation.id
    if cases:  # a page or a nurse's text about the case, wherever it was filed
        condition = or_(condition, Message.escalation_id.in_([c.id for c in cases]))
    messages = tuple(session.scalars(select(Message).where(condition).order_by(Message.id)))
    events = tuple(session.scalars(select(EscalationEvent).where(
        EscalationEvent.escalation_id.in_([c.id for c in cases])).order_by(EscalationEvent.id))) if cases else ()
    loaded = svc.flows.pinned(session, conversation.flow_id, conversation.flow_version)
    users = frozenset(session.scalars(select(User.username)))
    return ConversationRecord(conversation, patient, loaded, messages, cases, events, _staff(svc, session), users)


def _staff(svc: Services, session: Session) -> dict[str, str]:
    names = {nurse.phone: nurse.name for nurse in svc.roster.spec.nurses}
    names.update({nurse.name: nurse.name for nurse in svc.roster.spec.nurses})
    if svc.roster.fallback is not None:
        names[svc.roster.fallback.phone] = svc.roster.fallback.name
    names.update({username: name or username for username, name in session.execute(select(User.username, User.name))})
    return names


def conversation_of_case(session: Session, case_id: int) -> int | None:
    return session.scalar(select(Escalation.conversation_id).where(Escalation.id == case_id))


def conversations_since(session: Session, since: datetime) -> list[int]:
    """Every conversation that changed since then (started, answered, escalated), oldest first."""
    return list(session.scalars(select(Conversation.id).where(Conversation.updated_at >= since)
                                .order_by(Conversation.id)))


def summary_of(svc: Services, record: ConversationRecord) -> Summary:
    conversation = record.conversation
    return summarize(record.loaded.flow, conversation.flow_version, record.state, record.said,
                     channel=conversation.channel, status=conversation.status, context=svc.context)


def case_summary(svc: Services, session: Session, case: Escalation) -> dict[str, object]:
    """What the case page shows above the transcript (records/_summary.html); nothing for a case with no
    conversation."""
    record = load(svc, session, case.conversation_id) if case.conversation_id else None
    if record is None:
        return {"summary": None}
    summary = summary_of(svc, record)
    return {"summary": summary, "summary_language": LANGUAGE_NAMES.get(summary.language, summary.language),
            "summary_level_words": LEVEL_WORDS[summary.level] if summary.level else "",
            "summary_bilingual": any(e.question_asked for e in summary.exchanges)}
