"""Retention: patient content older than RETENTION_DAYS is purged by the clock; the skeleton stays.

Purged: message bodies (the patient's texts, the replies, pages and nurse commands that quote them), the
conversation state's answers and quotes, a case's quotes, note and voicemail link, and the audit trail's
details that hold a note or a link. Kept: every row, with its times, levels, statuses, red-flag names,
outcomes and who did what (escalation_events, audit_log). A review of advice that did not hold up
(advice_reviews) loses its note and keeps who reviewed it and when. Content still in use waits until it is not: a
text not yet sent, everything of a patient whose case is still open (the nurse reads the history), a
conversation whose check-ins are still to come. Webhook receipts (the replies, kept so that Twilio's
retries are answered alike) are deleted.

Each patient's purge is one item of a clock batch (runtime.envelope.run_each), with the patient locked
as for their own texts, so it never races a webhook for the same conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, not_, or_, select, true, union, update
from sqlalchemy.orm import Session

from ..engine.state import State
from ..models import AdviceReview, Checkin, Conversation, Escalation, EscalationEvent, Message, WebhookReceipt
from ..runtime.conversation import lock_patient_by_id
from ..runtime.envelope import Turn, run, run_each
from ..services import Services
from ..settings import Settings
from ..statuses import OPEN_STATUSES, CaseStatus

UNSENT = ("queued", "retry", "sending")  # still to go out: the outbox needs the body
CONTENT_EVENTS = ("note", "resolved", "voicemail")  # the audit details that are a nurse's note or a recording link
BATCH = 50  # patients per transaction (each is locked until the batch commits)
MAX_BATCHES = 40  # per tick; a backlog (retention just turned on) drains over the next ticks


@dataclass
class Purged:
    messages: int = 0
    conversations: int = 0
    cases: int = 0
    reviews: int = 0

    @property
    def total(self) -> int:
        return self.messages + self.conversations + self.cases + self.reviews


def retention(settings: Settings) -> timedelta | None:
    return timedelta(days=settings.retention_days) if settings.retention_days else None


def _older(column: ColumnElement, before: datetime | None) -> ColumnElement[bool]:
    return true() if before is None else column < before


def _in_follow_up() -> ColumnElement[bool]:
    """The conversation is still in use: its case is open, or a check-in is still to go or to be answered."""
    return or_(exists().where(Escalation.conversation_id == Conversation.id, Escalation.status.in_(OPEN_STATUSES)),
               exists().where(Checkin.conversation_id == Conversation.id, Checkin.status.in_(("pending", "sent"))))


def _has_open_case(patient_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    return exists().where(Escalation.patient_id == patient_id, Escalation.status.in_(OPEN_STATUSES))


def _messages_of(patient_id: int) -> ColumnElement[bool]:
    """The patient's own texts and calls, and those about their cases (pages, nurse commands)."""
    cases = select(Escalation.id).where(Escalation.patient_id == patient_id)
    return or_(Message.patient_id == patient_id, Message.escalation_id.in_(cases))


def purge_patient(session: Session, patient_id: int, now: datetime, before: datetime | None) -> Purged:
    """Remove one patient's content older than `before` (None: all of it, in use or not: an erasure)."""
    done = Purged()
    if before is not None and session.scalar(select(_has_open_case(patient_id))):
        return done  # a nurse may still read all of it
    done.messages = session.execute(
        update(Message).where(_messages_of(patient_id), Message.content_purged_at.is_(None),
                              _older(Message.created_at, before), Message.status.not_in(UNSENT))
        .values(body="", content_purged_at=now).execution_options(synchronize_session=False)).rowcount
    conversations = select(Conversation).where(Conversation.patient_id == patient_id,
                                               Conversation.content_purged_at.is_(None),
                                               _older(Conversation.updated_at, before))
    if before is not None:
        conversations = conversations.where(not_(_in_follow_up()))
    for conversation in session.scalars(conversations):
        # Only the content goes: the node, outcome, level and red-flag names stay (engine State's own form).
        conversation.state = State.from_json(conversation.state).evolve(answers={}, quotes=()).to_json()
        conversation.content_purged_at = now
        done.conversations += 1
    cases = select(Escalation).where(Escalation.patient_id == patient_id, Escalation.content_purged_at.is_(None),
                                     _older(Escalation.updated_at, before))
    if before is not None:
        cases = cases.where(Escalation.status == CaseStatus.resolved)
    for case in session.scalars(cases):
        case.quotes, case.note, case.recording_url, case.content_purged_at = [], None, None, now
        session.execute(update(EscalationEvent).where(EscalationEvent.escalation_id == case.id,
                                                      EscalationEvent.event.in_(CONTENT_EVENTS))
                        .values(detail="").execution_options(synchronize_session=False))
        done.cases += 1
    done.reviews = session.execute(
        update(AdviceReview).where(AdviceReview.patient_id == patient_id, AdviceReview.content_purged_at.is_(None),
                                   _older(AdviceReview.reviewed_at, before))
        .values(note="", content_purged_at=now).execution_options(synchronize_session=False)).rowcount
    session.flush()
    return done


def patients_due(session: Session, before: datetime, after_id: int, limit: int) -> list[int]:
    """Patients (above `after_id`) holding content older than `before` that is no longer in use."""
    old_messages = and_(Message.created_at < before, Message.content_purged_at.is_(None),
                        Message.status.not_in(UNSENT))
    found = union(
        select(Message.patient_id.label("id")).where(old_messages, Message.patient_id.is_not(None)),
        select(Escalation.patient_id).join(Message, Message.escalation_id == Escalation.id)
        .where(old_messages, Message.patient_id.is_(None)),
        select(Conversation.patient_id).where(Conversation.updated_at < before,
                                              Conversation.content_purged_at.is_(None), not_(_in_follow_up())),
        select(Escalation.patient_id).where(Escalation.updated_at < before, Escalation.status == CaseStatus.resolved,
                                            Escalation.content_purged_at.is_(None)),
        select(AdviceReview.patient_id).where(AdviceReview.reviewed_at < before,
                                              AdviceReview.content_purged_at.is_(None)),
    ).subquery()
    return list(session.scalars(select(found.c.id).where(found.c.id > after_id, not_(_has_open_case(found.c.id)))
                                .order_by(found.c.id).limit(limit)))


def _purge_unattached(session: Session, before: datetime, now: datetime) -> int:
    """Texts tied to no patient and no case (a nurse's WHO or HELP, a command for no case), and receipts."""
    purged = session.execute(
        update(Message).where(Message.patient_id.is_(None), Message.escalation_id.is_(None),
                              Message.content_purged_at.is_(None), Message.created_at < before,
                              Message.status.not_in(UNSENT))
        .values(body="", content_purged_at=now).execution_options(synchronize_session=False)).rowcount
    receipts = session.execute(delete(WebhookReceipt).where(WebhookReceipt.created_at < before)).rowcount
    return purged + receipts


def tick(svc: Services) -> int:
    """The clock job: purge what is past RETENTION_DAYS (nothing when it is unset). Returns rows purged."""
    keep = retention(svc.settings)
    if keep is None:
        return 0
    before = svc.clock() - keep
    handled, after_id = 0, 0

    def purge(turn: Turn[int], patient_id: int) -> int | None:
        if lock_patient_by_id(turn.session, patient_id) is None:
            return None
        return purge_patient(turn.session, patient_id, turn.now, before).total

    for _ in range(MAX_BATCHES):
        with svc.factory() as session:
            due = patients_due(session, before, after_id, BATCH)
        if not due:
            break
        handled += sum(run_each(svc, due, purge))
        after_id = due[-1]
    return handled + run(svc, lambda turn: _purge_unattached(turn.session, before, turn.now))
