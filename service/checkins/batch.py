"""A clock batch of check-ins: claimed in one statement, and what their patients need read in three.

With a million pending check-ins the sender's cost is its round trips to the database: read per
check-in, its patient's other check-ins, latest conversation and scheduled texts were three statements
each, on top of the claim. Here the claim is one statement for the batch (and, on Postgres, the lock
that keeps two clocks apart), and the three reads are one each for the whole batch.

Only a patient's first check-in in a batch uses what was read up front. A second one of the same
patient (two overdue together after downtime) is read afresh when its turn comes, since the first may
have changed what it would find (superseded, cancelled, a text queued against the caps).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from ..models import Checkin, Conversation, Message, Patient
from .window import WEEK_DAYS

BATCH = 25  # check-ins per transaction (its locks are held that long), then their texts go out
KIND = "checkin"  # messages.kind of check-ins and their reminders (the TCPA caps count these)
OPEN = ("pending", "sent")  # a patient's check-ins that are still to go or to be answered
_KEY = "checkins.batch"  # session.info: this transaction's batch

After = tuple[datetime, int] | None  # keyset: the last (due_at, id) of the batch before


@dataclass
class Claimed:
    """A check-in this transaction holds, its patient, and what deciding about it needs."""

    checkin: Checkin
    patient: Patient
    others: list[Checkin]  # the patient's other open check-ins (possibly this one too: callers skip it)
    conversation: Conversation | None  # the patient's latest
    scheduled: list[datetime]  # when their scheduled texts of the caps' week were queued


@dataclass
class _Batch:
    first_of_patient: dict[int, Claimed] = field(default_factory=dict)  # by check-in id


def page(query: Any, after: After) -> Any:
    if after is not None:  # keyset paging: rows passed over (busy patient) are not fetched again
        query = query.where(or_(Checkin.due_at > after[0], and_(Checkin.due_at == after[0], Checkin.id > after[1])))
    return query.order_by(Checkin.due_at, Checkin.id).limit(BATCH)


def claim(session: Session, where: Iterable[ColumnElement[bool]], after: After,
          now: datetime) -> list[tuple[datetime, int]]:
    """Claim the next batch of check-ins matching `where` (oldest due first) in this transaction."""
    query = page(select(Checkin, Patient).join(Patient, Patient.id == Checkin.patient_id).where(*where), after)
    if session.get_bind().dialect.name == "postgresql":
        # Both rows locked, neither waited for: a locked check-in is another clock's, a locked patient is
        # busy with a webhook. (SQLite: the transaction began with the database's write lock.)
        query = query.with_for_update(skip_locked=True)
    rows = [(checkin, patient) for checkin, patient in session.execute(query)]
    batch = _Batch()
    session.info[_KEY] = batch
    if not rows:
        return []
    patients = {patient.id for _, patient in rows}
    others: dict[int, list[Checkin]] = defaultdict(list)
    for other in session.scalars(select(Checkin).where(Checkin.patient_id.in_(patients), Checkin.status.in_(OPEN))):
        others[other.patient_id].append(other)
    latest_ids = (select(func.max(Conversation.id)).where(Conversation.patient_id.in_(patients))
                  .group_by(Conversation.patient_id))
    latest = {conversation.patient_id: conversation
              for conversation in session.scalars(select(Conversation).where(Conversation.id.in_(latest_ids)))}
    scheduled: dict[int, list[datetime]] = defaultdict(list)
    for patient_id, at in session.execute(select(Message.patient_id, Message.created_at)
                                          .where(Message.patient_id.in_(patients), *scheduled_where(now))):
        scheduled[patient_id].append(at)
    seen: set[int] = set()
    for checkin, patient in rows:
        if patient.id not in seen:
            seen.add(patient.id)
            batch.first_of_patient[checkin.id] = Claimed(checkin, patient, others[patient.id],
                                                         latest.get(patient.id), scheduled[patient.id])
    return [(checkin.due_at, checkin.id) for checkin, _ in rows]


def take(session: Session, checkin_id: int) -> Claimed | None:
    """The claimed check-in with what was read for it, once; None: read it afresh (see the module's doc)."""
    batch: _Batch | None = session.info.get(_KEY)
    return batch.first_of_patient.pop(checkin_id, None) if batch is not None else None


def read_one(session: Session, checkin: Checkin, patient: Patient, now: datetime) -> Claimed:
    """What `claim` reads for a batch, for one check-in already claimed."""
    others = list(session.scalars(select(Checkin).where(Checkin.patient_id == patient.id,
                                                        Checkin.status.in_(OPEN))))
    conversation = session.scalars(select(Conversation).where(Conversation.patient_id == patient.id)
                                   .order_by(Conversation.id.desc()).limit(1)).first()
    return Claimed(checkin, patient, others, conversation, scheduled_texts(session, patient.id, now))


def scheduled_where(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Scheduled texts (check-ins, reminders) queued over the TCPA cap's week that count against it."""
    return (Message.direction == "out", Message.kind == KIND, Message.created_at >= now - timedelta(days=WEEK_DAYS + 1),
            # A text that never reached the patient does not count (delivery.py asks it again later).
            Message.status.not_in(("failed", "suppressed")),
            or_(Message.delivery_status.is_(None), Message.delivery_status.not_in(("undelivered", "failed"))))


def scheduled_texts(session: Session, patient_id: int, now: datetime) -> list[datetime]:
    """When this patient's check-ins and reminders were queued, over the TCPA cap's week."""
    return list(session.scalars(select(Message.created_at).where(Message.patient_id == patient_id,
                                                                 *scheduled_where(now))))
