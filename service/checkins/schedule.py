"""Check-ins as rows: scheduled by an outcome, cancelled by opt-out or a newer outcome, answered by a
reply. The clock sends them (sender.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists, update
from sqlalchemy.orm import Session

from ..models import Checkin, Conversation, Patient


def schedule(session: Session, conversation: Conversation, patient: Patient, ask: str, due_at: datetime,
             now: datetime) -> Checkin | None:
    if patient.phone is None or patient.opted_out:
        return None  # no number to text (hidden caller ID) or the patient said STOP
    checkin = Checkin(patient_id=patient.id, conversation_id=conversation.id, ask=ask, due_at=due_at,
                      status="pending", created_at=now)
    session.add(checkin)
    return checkin


def cancel_pending(session: Session, patient: Patient) -> None:
    session.execute(
        update(Checkin).where(Checkin.patient_id == patient.id, Checkin.status == "pending")
        .values(status="cancelled").execution_options(synchronize_session=False)
    )


# Core, not ORM: it runs for every inbound text, and no Checkin object in the session needs the change.
CHECKINS = Checkin.__table__
ANSWER_CHECKIN = (update(CHECKINS)
                  .where(CHECKINS.c.patient_id == bindparam("b_patient_id"), CHECKINS.c.status == "sent")
                  .values(status="answered", answered_at=bindparam("now", type_=CHECKINS.c.answered_at.type)))
# Read with the rest of an inbound text's context (conversations.READ_TURN): most texts answer no check-in.
CHECKIN_OUT = exists().where(CHECKINS.c.patient_id == bindparam("patient_id"), CHECKINS.c.status == "sent")


def replied(session: Session, patient_id: int, now: datetime) -> None:
    """The patient wrote back: the check-in that is out is answered (no reminder will follow)."""
    session.connection().execute(ANSWER_CHECKIN, {"b_patient_id": patient_id, "now": now})
