"""The queue: open escalations, most urgent first, then oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.flow import LEVEL_WORDS, Flow, Level
from ..escalation.cases import LANGUAGE_NAMES
from ..models import Conversation, Escalation, Patient, User
from ..phones import mask
from ..services import Services
from ..statuses import OPEN_STATUSES, CaseStatus

DISPOSITION_ORDER = {"emergency": 0, "nurse_callback": 1, "clinic_queue": 2}
DISPOSITION_WORDS = {"emergency": "Emergency", "nurse_callback": "Nurse callback", "clinic_queue": "Clinic queue",
                     "self_care": "Self care"}
STATUS_WORDS = {CaseStatus.open: "waiting", CaseStatus.paged: "paged, not acknowledged",
                CaseStatus.acknowledged: "acknowledged", CaseStatus.resolved: "resolved"}


@dataclass(frozen=True)
class QueueRow:
    id: int
    disposition: str
    disposition_words: str
    level_words: str
    red_flags: list[str]
    reason: str
    age: str
    created_at: datetime
    status: str
    status_words: str
    owner: str
    patient: str  # masked
    channel: str
    has_recording: bool
    speaks: str = ""  # the patient's language when it is not English ("Spanish"): the nurse may need an interpreter


def age(since: datetime, now: datetime) -> str:
    """'4 min', '2 h 05 min', '3 d 4 h': how long a patient has been waiting."""
    minutes = max(int((now - since) / timedelta(minutes=1)), 0)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def level_words(level: str) -> str:
    try:
        return LEVEL_WORDS[Level(level)]
    except ValueError:
        return level


def case_flow(svc: Services, session: Session, case: Escalation) -> Flow:
    """The flow version the patient's conversation ran on (its red-flag labels), else the current one."""
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    if conversation is None:
        return svc.flows.current().flow
    return svc.flows.pinned(session, conversation.flow_id, conversation.flow_version).flow


def red_flag_labels(flow: Flow, flags: list[str]) -> list[str]:
    return [flow.red_flags[f].label if f in flow.red_flags else f for f in flags]


def user_names(session: Session) -> dict[str, str]:
    return {username: name for username, name in session.execute(select(User.username, User.name))}


def owner(svc: Services, case: Escalation, names: dict[str, str]) -> str:
    """Who has the case: a dashboard user by name, or the nurse who acknowledged by SMS."""
    if case.acknowledged_by:
        name = names.get(case.acknowledged_by)
        return f"{name} ({case.acknowledged_by})" if name and name != case.acknowledged_by else case.acknowledged_by
    nurse = svc.roster.staff_by_phone(case.nurse_phone) if case.nurse_phone else None
    if nurse is not None:
        return f"nobody yet (paged {nurse.name})"
    return "nobody yet"


def speaks(patient: Patient | None) -> str:
    if patient is None or patient.language == "en":
        return ""
    return LANGUAGE_NAMES.get(patient.language, patient.language)


def open_cases(svc: Services, session: Session, now: datetime) -> list[QueueRow]:
    cases = session.scalars(select(Escalation).where(Escalation.status.in_(OPEN_STATUSES))).all()
    cases = sorted(cases, key=lambda c: (DISPOSITION_ORDER.get(c.disposition, 9), c.created_at, c.id))
    rows = []
    names = user_names(session)
    for case in cases:
        patient = session.get(Patient, case.patient_id)
        conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
        rows.append(QueueRow(
            id=case.id, disposition=case.disposition,
            disposition_words=DISPOSITION_WORDS.get(case.disposition, case.disposition),
            level_words=level_words(case.level), red_flags=red_flag_labels(case_flow(svc, session, case),
                                                                           case.red_flags),
            reason=case.reason, age=age(case.created_at, now), created_at=case.created_at, status=case.status,
            status_words=STATUS_WORDS.get(case.status, case.status), owner=owner(svc, case, names),
            patient=mask(patient.phone if patient else None), channel=conversation.channel if conversation else "",
            has_recording=bool(case.recording_url), speaks=speaks(patient)))
    return rows
