"""Check-ins as rows: scheduled by an outcome, cancelled by opt-out or a newer outcome, answered by a
reply. The clock sends them (sender.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, insert, update
from sqlalchemy.orm import Session

from .. import fastsql
from ..models import Checkin

# Core, not ORM: they run on a text's turn (every text, or the one that ends a screen), and no Checkin
# object in the session needs the change.
CHECKINS = Checkin.__table__
INSERT_CHECKIN = insert(CHECKINS)
CANCEL_PENDING = (update(CHECKINS)
                  .where(CHECKINS.c.patient_id == bindparam("b_patient_id"), CHECKINS.c.status == "pending")
                  .values(status="cancelled"))


def schedule(session: Session, conversation_id: int, patient_id: int, ask: str, due_at: datetime,
             now: datetime) -> None:
    """A check-in for a patient who can be texted (the caller checks: a number, no STOP)."""
    session.flush()  # the ORM's pending rows first, as session.execute would (the conversation, on some paths)
    fastsql.execute(session, INSERT_CHECKIN, {"patient_id": patient_id, "conversation_id": conversation_id,
                                              "ask": ask, "due_at": due_at, "status": "pending", "created_at": now})


def cancel_pending(session: Session, patient_id: int) -> None:
    session.flush()  # a check-in the ORM has changed but not written yet is cancelled too
    fastsql.execute(session, CANCEL_PENDING, {"b_patient_id": patient_id})


ANSWER_CHECKIN = (update(CHECKINS)
                  .where(CHECKINS.c.patient_id == bindparam("b_patient_id"), CHECKINS.c.status == "sent")
                  .values(status="answered", answered_at=bindparam("now", type_=CHECKINS.c.answered_at.type)))
# Read with the rest of an inbound text's context (conversations.READ_TURN): most texts answer no check-in.
CHECKIN_OUT = exists().where(CHECKINS.c.patient_id == bindparam("patient_id"), CHECKINS.c.status == "sent")


def replied(session: Session, patient_id: int, now: datetime) -> None:
    """The patient wrote back: the check-in that is out is answered (no reminder will follow)."""
    session.connection().execute(ANSWER_CHECKIN, {"b_patient_id": patient_id, "now": now})
