"""Check-ins as rows: scheduled by an outcome, cancelled by opt-out or a newer outcome, answered by a
reply. The clock sends them (sender.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
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


def replied(session: Session, patient: Patient, now: datetime) -> None:
    """The patient wrote back: the check-in that is out is answered (no reminder will follow)."""
    session.execute(
        update(Checkin).where(Checkin.patient_id == patient.id, Checkin.status == "sent")
        .values(status="answered", answered_at=now).execution_options(synchronize_session=False)
    )
