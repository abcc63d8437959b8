"""The check-in sender: a clock job that texts each due check-in once, in the patient's daytime.

Each tick (service/clock.py):
1. Claim a batch of due check-ins (`pending`, `due_at` <= now; index ix_checkins_due), oldest first,
   in the batch's transaction, with one statement: on Postgres `SELECT ... FOR UPDATE SKIP LOCKED`
   of the check-ins and their patients (a row another clock has, or a patient a webhook is busy with,
   is passed over until the next tick, never waited for, so two clocks take disjoint batches); on
   SQLite the transaction holds the database's write lock, so what it reads is its own. Any number
   of clocks may run: each check-in is claimed by exactly one. Then what the batch's patients need
   (their other check-ins, latest conversations, scheduled texts of the week) is read in three
   statements for the whole batch, not three per check-in: with a million pending that keeps a
   clock ahead of what falls due. One savepoint per check-in, so one bad row spoils nothing else.
3. Decide: opted out or no number -> cancelled; a newer check-in of the same patient is overdue too
   (after downtime) -> skipped, only the newest goes; the patient is in the middle of another
   triage -> try again later; quiet hours or the daily/weekly cap (window.py) -> `due_at` moves to
   the next allowed morning. Night in the patient's zone is decided first, from the patient row
   alone: a night-time check-in costs one UPDATE and is not looked at again until its morning.
4. Otherwise the conversation moves to the check-in question (engine begin_checkin), the text is
   queued (kind `checkin`) and the row marked sent, in the same transaction; after the commit this
   thread hands the batch's texts to the outbox. A crash before the commit leaves the rows pending
   for the next tick; after it, the texts are the outbox's. Nothing is lost and nothing goes twice.
5. Check-ins that are out: no reply after REMINDER_AFTER -> one reminder (same window rules); still
   no reply REPLY_WINDOW later -> expired, and the patient's remaining check-ins are cancelled
   (no reply: one reminder, then stop).
Any text from the patient marks the check-in answered (schedule.replied, from conversations.advance).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ..engine.flow import Flow, Outcome, Question
from ..engine.state import ACTIVE, State
from ..engine.timed import begin_checkin, end_checkin, remind_checkin
from ..models import Checkin, Conversation, Message, Patient
from ..outbox.outbound import queue_sms
from ..runtime import envelope
from ..runtime.actions import apply
from ..runtime.conversation import flow_of
from ..services import Services
from . import batch
from .batch import BATCH, KIND, After, Claimed
from .schedule import cancel_pending
from .window import next_send_time, patient_zone, quiet

log = logging.getLogger(__name__)

REMINDER_AFTER = timedelta(hours=4)
REPLY_WINDOW = timedelta(hours=24)  # after the reminder; matches the flow's conversation expiry
REMINDER_LATEST = timedelta(hours=36)  # a reminder the caps hold back longer than this is dropped
BUSY_RETRY = timedelta(minutes=30)  # the patient is mid-triage in another conversation


def tick(svc: Services) -> int:
    """Send what is due; returns how many texts were queued."""
    now = svc.clock()
    queued = _sweep(svc, lambda session, after: _due(session, now, after), _send)
    queued += _sweep(svc, lambda session, after: _waiting(session, now, after), _follow_up)
    return queued


Claimer = Callable[[Session, After], list[tuple[datetime, int]]]
Handler = Callable[[Services, Session, int, datetime], "Message | None"]


def _sweep(svc: Services, claim: Claimer, handle: Handler) -> int:
    queued = 0
    after: After = None
    while True:
        rows: list[tuple[datetime, int]] = []  # the batch's, as its transaction claimed them
        # The clock is a worker: it sends the batch's texts now, from this thread (no hand-off needed).
        sent = envelope.run_each(svc, _claiming(claim, after, rows),
                                 lambda turn, checkin_id: handle(turn.svc, turn.session, checkin_id, turn.now),
                                 deliver=svc.outbox.deliver)
        queued += len(sent)
        if len(rows) < BATCH:
            return queued
        after = rows[-1]


def _claiming(claim: Claimer, after: After, rows: list[tuple[datetime, int]]) -> Callable[[Session], list[int]]:
    def claimed(session: Session) -> list[int]:
        rows[:] = claim(session, after)
        return [checkin_id for _, checkin_id in rows]

    return claimed


def _due(session: Session, now: datetime, after: After) -> list[tuple[datetime, int]]:
    return batch.claim(session, (Checkin.status == "pending", Checkin.due_at <= now), after, now)


def _follow_up_due(now: datetime):  # type: ignore[no-untyped-def]
    reminder = and_(Checkin.reminder_sent_at.is_(None), Checkin.reminder_due_at <= now)
    return or_(reminder, Checkin.expires_at <= now)


def _waiting(session: Session, now: datetime, after: After) -> list[tuple[datetime, int]]:
    return batch.claim(session, (Checkin.status == "sent", _follow_up_due(now)), after, now)


def _claim(session: Session, checkin_id: int, status: str, ready, now: datetime) -> Claimed | None:  # type: ignore[no-untyped-def]
    """The check-in and its patient, ours until the commit, with what deciding needs: from the batch's
    claim, or (a patient's second check-in in the batch) claimed and read afresh; None if another clock
    (or a webhook, for this patient) has them now, or the check-in is no longer due."""
    claimed = batch.take(session, checkin_id)
    if claimed is not None:
        return claimed
    where = (Checkin.id == checkin_id, Checkin.status == status, ready)
    if session.get_bind().dialect.name == "postgresql":
        # Both rows locked, neither waited for: a locked patient is busy with a webhook or another clock.
        row = session.execute(select(Checkin, Patient).join(Patient, Patient.id == Checkin.patient_id)
                              .where(*where).with_for_update(skip_locked=True)).first()
        return batch.read_one(session, row[0], row[1], now) if row else None
    # SQLite: this transaction holds the database's write lock; the conditional UPDATE is the claim.
    claimed_rows = session.execute(update(Checkin).where(*where).values(status="sending")
                                   .execution_options(synchronize_session=False))
    if claimed_rows.rowcount != 1:
        return None
    checkin = session.get(Checkin, checkin_id, populate_existing=True)
    assert checkin is not None
    checkin.status = status  # back to what it was: the caller decides where it goes from here
    patient = session.get(Patient, checkin.patient_id)
    assert patient is not None
    return batch.read_one(session, checkin, patient, now)


def checkin_asks(flow: Flow) -> set[str]:
    return {plan.ask for node in flow.nodes.values() if isinstance(node, Outcome) for plan in node.checkins}


def _busy(flow: Flow, conversation: Conversation, now: datetime) -> bool:
    """In the middle of a triage (not a check-in question) that has not timed out."""
    return (conversation.status == ACTIVE and conversation.node is not None
            and conversation.node not in checkin_asks(flow) and conversation.updated_at + flow.expiry > now)


def allowed_at(svc: Services, session: Session, patient: Patient, at: datetime,
               scheduled: list[datetime] | None = None) -> datetime:
    """When a scheduled text may go to the patient from `at` on (`scheduled`: their week's, if read already)."""
    zone = patient_zone(patient.timezone, patient.phone, svc.settings.clinic_timezone)
    if scheduled is None:
        scheduled = batch.scheduled_texts(session, patient.id, at)
    return next_send_time(at, zone, scheduled, spread_key=patient.id)


def _send(svc: Services, session: Session, checkin_id: int, now: datetime) -> Message | None:
    claimed = _claim(session, checkin_id, "pending", Checkin.due_at <= now, now)
    return _send_claimed(svc, session, claimed, now) if claimed else None


def _send_claimed(svc: Services, session: Session, claimed: Claimed, now: datetime) -> Message | None:
    checkin, patient = claimed.checkin, claimed.patient
    if patient.phone is None or patient.opted_out:
        return _close(checkin, "cancelled", "no number or opted out")
    zone = patient_zone(patient.timezone, patient.phone, svc.settings.clinic_timezone)
    if quiet(now, zone):
        # Night for the patient: nothing else matters until the morning, when all of it is decided afresh,
        # so a night-time check-in costs this one UPDATE and is not looked at again before then.
        checkin.due_at = next_send_time(now, zone, (), spread_key=patient.id)
        log.info("checkins.deferred checkin=%s until=%s reason=quiet_hours", checkin.id, checkin.due_at.isoformat())
        return None
    others = [other for other in claimed.others if other.id != checkin.id and other.status in batch.OPEN]
    newer = [other.id for other in others if other.status == "pending" and other.due_at <= now
             and (other.due_at, other.id) > (checkin.due_at, checkin.id)]
    if newer:  # overdue together (downtime): only the newest goes
        return _close(checkin, "skipped", f"superseded by checkin={newer[0]}")
    out = [other for other in others if other.status == "sent"]
    if any(earlier.reminder_sent_at is not None for earlier in out):
        # Reminded and still silent: stop following up (one reminder, then stop).
        for earlier in out:
            earlier.status = "expired"
        cancel_pending(session, patient.id)
        return _close(checkin, "cancelled", "no reply to the last check-in and its reminder")
    conversation = claimed.conversation
    if conversation is None:
        return _close(checkin, "cancelled", "no conversation")
    flow = flow_of(svc, session, conversation)
    if not isinstance(flow.nodes.get(checkin.ask), Question):
        log.error("checkins.unknown_question checkin=%s ask=%s flow=%s", checkin.id, checkin.ask,
                  conversation.flow_version)
        return _close(checkin, "cancelled", "question not in the flow")
    if _busy(flow, conversation, now):
        checkin.due_at = now + BUSY_RETRY
        log.info("checkins.deferred checkin=%s reason=mid_triage", checkin.id)
        return None
    when = allowed_at(svc, session, patient, now, claimed.scheduled)
    if when > now:
        checkin.due_at = when
        log.info("checkins.deferred checkin=%s until=%s reason=quiet_hours_or_cap", checkin.id, when.isoformat())
        return None
    for earlier in out:  # an older check-in never answered: this one asks again instead of reminding
        earlier.status = "expired"
    result = begin_checkin(flow, State.from_json(conversation.state), checkin.ask, svc.context)
    apply(svc, session, flow, conversation, patient, result, now)
    message = queue_sms(session, to=patient.phone, body="\n\n".join(m.text for m in result.messages), kind=KIND,
                        now=now, patient_id=patient.id, conversation_id=conversation.id, checkin_id=checkin.id,
                        key=checkin.ask)
    checkin.status, checkin.sent_at, checkin.attempts = "sent", now, checkin.attempts + 1
    checkin.conversation_id = conversation.id
    checkin.reminder_due_at = now + REMINDER_AFTER
    log.info("checkins.sent checkin=%s patient=%s message_id=%s late_s=%d", checkin.id, patient.id, message.id,
             (now - checkin.due_at).total_seconds())
    return message


def _close(checkin: Checkin, status: str, why: str) -> None:
    checkin.status = status
    log.info("checkins.%s checkin=%s reason=%s", status, checkin.id, why)


def _follow_up(svc: Services, session: Session, checkin_id: int, now: datetime) -> Message | None:
    claimed = _claim(session, checkin_id, "sent", _follow_up_due(now), now)
    return _follow_up_claimed(svc, session, claimed, now) if claimed else None


def _follow_up_claimed(svc: Services, session: Session, claimed: Claimed, now: datetime) -> Message | None:
    checkin, patient = claimed.checkin, claimed.patient
    if patient.phone is None or patient.opted_out:
        return _close(checkin, "cancelled", "no number or opted out")
    conversation = session.get(Conversation, checkin.conversation_id)
    assert conversation is not None
    if checkin.reminder_sent_at is not None:
        return _stop(session, conversation, patient, checkin, "no reply after the reminder")
    still_asking = conversation.node == checkin.ask and conversation.status == ACTIVE
    if not still_asking or claimed.conversation is not conversation:
        return _close(checkin, "expired", "the conversation moved on")
    when = allowed_at(svc, session, patient, now, claimed.scheduled)
    if checkin.sent_at is not None and when > checkin.sent_at + REMINDER_LATEST:
        return _stop(session, conversation, patient, checkin, "no reply, and no reminder allowed in time")
    if when > now:
        checkin.reminder_due_at = when
        return None
    flow = flow_of(svc, session, conversation)
    result = remind_checkin(flow, State.from_json(conversation.state), svc.context)
    apply(svc, session, flow, conversation, patient, result, now)  # keeps the conversation open for the reply
    message = queue_sms(session, to=patient.phone, body="\n\n".join(m.text for m in result.messages), kind=KIND,
                        now=now, patient_id=patient.id, conversation_id=conversation.id, checkin_id=checkin.id,
                        key="checkin_reminder")
    checkin.reminder_sent_at = now
    checkin.expires_at = now + REPLY_WINDOW
    log.info("checkins.reminded checkin=%s patient=%s message_id=%s", checkin.id, patient.id, message.id)
    return message


def _stop(session: Session, conversation: Conversation, patient: Patient, checkin: Checkin, why: str) -> None:
    """No reply: no more check-ins for this patient, and the question is no longer open."""
    cancel_pending(session, patient.id)
    ended = end_checkin(State.from_json(conversation.state), checkin.ask).state
    conversation.state, conversation.status, conversation.node = ended.to_json(), ended.status, ended.node
    return _close(checkin, "expired", why)
