"""The one way in for every input: a webhook, a nurse's text, a dashboard action, a clock job.

    read the clock -> open the transaction -> lock the patient (once) -> this input seen before?
    (answer from its receipt, change nothing) -> the input's own work (load the conversation, run
    the engine, carry out its actions) -> store the receipt -> commit -> send what this turn queued

A lost race (a duplicate webhook that committed first, a conversation saved under us) is retried
once: the retry finds the receipt and answers the same, or sees the other's changes and goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ..db import transaction
from ..outbox.outbound import QUEUED, Queued, queued_in, savepoint
from ..services import Services
from .conversation import PatientRow, lock_patient_by_id, lock_patient_row, receipt, store_receipt

log = logging.getLogger(__name__)

T = TypeVar("T")
# What a lost race looks like: the receipt or patient row inserted by the other (unique key), the
# conversation's version moved on (save_conversation, the ORM's version column), or a deadlock or lock
# timeout the database chose this transaction to lose.
LOST_RACE = (IntegrityError, StaleDataError, OperationalError)


class Seen(Protocol):
    seen: str | None


@dataclass
class Turn(Generic[T]):
    """One input's transaction, as its work sees it."""

    svc: Services
    session: Session
    now: datetime
    patient: PatientRow | None  # locked for the transaction, when the input is about one patient
    found: object = None  # what `read` found besides the receipt (the SMS situation)


@dataclass(frozen=True)
class Codec(Generic[T]):
    """How an input's answer is stored as its receipt, so that a repeat answers exactly the same."""

    dump: Callable[[T], str]
    load: Callable[[str], T]


NO_PATIENT = object()  # the input concerns no one patient (a nurse's text, a clock job)


def run(svc: Services, work: Callable[[Turn[T]], T], *, key: str | None = None, codec: Codec[T] | None = None,
        phone: str | None | object = NO_PATIENT, patient_id: int | None = None,
        read: Callable[[Session, PatientRow | None, str | None], Seen] | None = None) -> T:
    """Run one input through the envelope and return its answer.

    `key`: the input's receipt key (a webhook's MessageSid or CallSid and step); None: not idempotent by
    key (a clock job claims its rows instead). `phone`: lock this patient first, created if new (None: a
    hidden number, a patient of its own); `patient_id`: lock this known patient. `read`: reads the
    receipt together with what the work needs, in one statement (the SMS hot path): `turn.found`."""
    for attempt in (1, 2):
        try:
            return _once(svc, work, key, codec, phone, patient_id, read)
        except LOST_RACE:
            if attempt == 2:
                raise
            log.warning("runtime.retry key=%s", key.split(":", 1)[0] if key else "-")
    raise AssertionError("unreachable")


def _once(svc: Services, work: Callable[[Turn[T]], T], key: str | None, codec: Codec[T] | None,
          phone: str | None | object, patient_id: int | None,
          read: Callable[[Session, PatientRow | None, str | None], Seen] | None) -> T:
    now = svc.clock()

    def body(session: Session) -> tuple[T, Queued]:
        mark = len(session.info.get(QUEUED, ()))  # a batch's transaction holds others' sends too (group_commit.py)
        if patient_id is not None:
            patient = lock_patient_by_id(session, patient_id)
        else:
            patient = None if phone is NO_PATIENT else lock_patient_row(session, phone, now)  # type: ignore[arg-type]
        found = read(session, patient, key) if read is not None else None
        seen = found.seen if found is not None else receipt(session, key) if codec is not None else None
        if seen is not None and codec is not None:
            return codec.load(seen), Queued()
        answer = work(Turn(svc, session, now, patient, found))
        if codec is not None:
            store_receipt(session, key, codec.dump(answer), now)
        return answer, queued_in(session, since=mark)

    if svc.group_commit is not None:
        answer, queued = svc.group_commit.run(body)
    else:
        with transaction(svc.factory) as session:
            answer, queued = body(session)
    if queued:  # most turns queue nothing: no send, no extra transaction (the clock's sweep does retries)
        svc.dispatch(queued)
    return answer


def run_each(svc: Services, items: list[int] | Callable[[Session], list[int]], work: Callable[[Turn[T], int], T | None],
             deliver: Callable[[list[int]], None] | None = None) -> list[T]:
    """A clock job's batch: one transaction (one commit, not one per row), one savepoint per item, so one
    bad row holds back no other and stays as it was for the next tick. Each item claims its own row (a
    conditional UPDATE), which is what makes two clocks or a restart act once; or `items` is a function
    that claims the batch's rows in its transaction, in one statement, and returns them (check-ins). Then
    sends what the batch queued (`deliver`: the clock sends from its own thread; default: dispatch)."""
    done: list[T] = []
    now = svc.clock()
    claimed: list[int] = items if isinstance(items, list) else []
    try:
        with transaction(svc.factory) as session:
            turn: Turn[T] = Turn(svc, session, now, None)
            if not isinstance(items, list):
                claimed = items(session)
            for item in claimed:
                try:
                    with savepoint(session):  # a failed item's rows and sends go, the others' stay
                        answer = work(turn, item)
                except Exception:
                    log.exception("runtime.item_failed item=%s", item)
                    continue
                if answer is not None:
                    done.append(answer)
            queued = queued_in(session)
    except Exception:  # the commit failed: nothing was queued, every row is as it was (next tick)
        log.exception("runtime.batch_failed first=%s size=%d", claimed[0] if claimed else None, len(claimed))
        return []
    if queued:
        try:
            (deliver or svc.dispatch)(queued)
        except Exception:  # they are committed: the outbox sweep sends them on its next run
            log.exception("runtime.deliver_failed count=%d", len(queued))
    return done
