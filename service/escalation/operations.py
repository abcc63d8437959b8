"""What a nurse can do with a case. SMS commands and the dashboard both call these, nothing else.

Each operation runs inside the caller's transaction, checks that this nurse may act on this case,
writes the audit trail, and queues any text through the one outbound path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..checkins.schedule import cancel_pending
from ..models import Conversation, Escalation, Patient
from ..services import Services
from ..statuses import OPEN_STATUSES, UNOWNED_STATUSES, CaseStatus
from .cases import audit, cancel_pending_alerts, first_contact, tell_patient


class NotAllowed(Exception):
    """The nurse may not do this to this case; str() says why, in words fit to text back."""


@dataclass(frozen=True)
class Actor:
    name: str
    phone: str | None = None  # nurses acting by SMS, and dashboard users with a roster phone
    username: str | None = None  # dashboard users
    admin: bool = False

    @property
    def label(self) -> str:
        return self.username or self.name


def get_case(session: Session, case_id: int, *, for_update: bool = True) -> Escalation:
    query = select(Escalation).where(Escalation.id == case_id)
    case = session.scalars(query.with_for_update() if for_update else query).first()
    if case is None:
        raise NotAllowed(f"There is no case {case_id}.")
    return case


def latest_case_paged_to(session: Session, phone: str, *, waiting: bool = False) -> Escalation | None:
    """The nurse's latest open case; with waiting=True only one not yet acknowledged (plain `ACK`)."""
    statuses = UNOWNED_STATUSES if waiting else OPEN_STATUSES
    return session.scalars(
        select(Escalation).where(Escalation.nurse_phone == phone, Escalation.status.in_(statuses))
        .order_by(Escalation.updated_at.desc(), Escalation.id.desc()).limit(1)
    ).first()


def check_may_act(case: Escalation, actor: Actor) -> None:
    """Only cases paged to this nurse, cases still unowned in the queue, or any case for an admin."""
    if case.status == CaseStatus.resolved:
        raise NotAllowed(f"Case {case.id} is already resolved.")
    if actor.admin or case.status in UNOWNED_STATUSES:
        return
    if actor.phone is not None and case.nurse_phone == actor.phone:
        return
    if actor.username is not None and case.acknowledged_by == actor.username:
        return
    raise NotAllowed(f"Case {case.id} belongs to another nurse ({case.acknowledged_by or 'unknown'}).")


def _patient_text(svc: Services, session: Session, case: Escalation, patient: Patient, name: str, now: datetime,
                  kind: str, **values: str) -> None:
    """A text to the patient in their language, from the flow's own messages."""
    tell_patient(svc, session, case, patient, name, now, kind, **values)


def acknowledge(svc: Services, session: Session, case: Escalation, actor: Actor, now: datetime) -> bool:
    """Take ownership. Returns False when this nurse already owned it (nothing changes)."""
    check_may_act(case, actor)
    if case.status == CaseStatus.acknowledged and case.acknowledged_by == actor.label:
        return False
    case.status = CaseStatus.acknowledged
    case.acknowledged_at = now
    case.acknowledged_by = actor.label
    if actor.phone:
        case.nurse_phone = actor.phone
    case.next_action_at = None  # stops re-paging
    cancel_pending_alerts(session, case, keep_to=actor.phone)  # pages to others awaiting a retry are moot now
    case.updated_at = now
    audit(session, case, "acknowledged", now, actor=actor.label)
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    cancel_pending(session, patient.id)  # a nurse has taken over from the automatic follow-ups
    _patient_text(svc, session, case, patient, "case_acknowledged", now, kind="notice")
    return True


def message_patient(svc: Services, session: Session, case: Escalation, actor: Actor, text: str,
                    now: datetime) -> None:
    """Relay a nurse's words to the patient from the clinic number (taking the case if unowned)."""
    check_may_act(case, actor)
    if case.status in UNOWNED_STATUSES:
        acknowledge(svc, session, case, actor, now)
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    if patient.phone is None:
        raise NotAllowed(f"Case {case.id}: the patient's number is hidden; call back is not possible by text.")
    if patient.opted_out:
        raise NotAllowed(f"Case {case.id}: the patient has opted out of texts. Please call them.")
    _patient_text(svc, session, case, patient, "relay", now, kind="relay", nurse=actor.name, text=text)
    first_contact(case, now, "sms")
    case.updated_at = now
    audit(session, case, "nurse_message", now, actor=actor.label, detail=f"{len(text)} characters")


def add_note(session: Session, case: Escalation, actor: Actor, note: str, now: datetime) -> None:
    check_may_act(case, actor)
    case.updated_at = now
    audit(session, case, "note", now, actor=actor.label, detail=note)


def resolve(session: Session, case: Escalation, actor: Actor, note: str, now: datetime) -> None:
    check_may_act(case, actor)
    case.status = CaseStatus.resolved
    case.resolved_at = now
    case.note = note or case.note
    case.next_action_at = None
    cancel_pending_alerts(session, case)
    case.updated_at = now
    if case.acknowledged_by is None:
        case.acknowledged_by, case.acknowledged_at = actor.label, now
    audit(session, case, "resolved", now, actor=actor.label, detail=note)
    _release_hold(session, case)


def _release_hold(session: Session, case: Escalation) -> None:
    """A crisis holds the conversation with the nurse (engine: State.held) until the nurse resolves it."""
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if conversation is not None and (conversation.state or {}).get("held"):
        conversation.state = {**conversation.state, "held": False}
