"""The engine's actions, carried out in the turn's transaction: one table from action type to handler."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from ..checkins.schedule import cancel_pending, schedule
from ..engine.flow import Flow
from ..engine.state import (
    Action,
    CancelCheckins,
    Escalate,
    ForwardToNurse,
    OptIn,
    OptOut,
    Result,
    ScheduleCheckin,
    SetLanguage,
)
from ..escalation import cases
from ..models import Conversation, Patient
from ..services import Services
from .conversation import ConversationRow, PatientRow, conversation_values, orm_conversation, orm_patient


class Where:
    """What a handler acts on: the turn's services, transaction, flow, conversation and patient. A text's
    turn holds plain rows; the ORM objects are loaded only for a handler that needs them (an escalation,
    an opt-out), so the step that ends a screen and schedules its check-ins runs Core statements only."""

    def __init__(self, svc: Services, session: Session, flow: Flow, conversation: Conversation | ConversationRow,
                 patient: Patient | PatientRow, now: datetime) -> None:
        self.svc, self.session, self.flow, self.now = svc, session, flow, now
        self._conversation, self._patient = conversation, patient
        self.conversation_id, self.patient_id, self.phone = conversation.id, patient.id, patient.phone

    @cached_property
    def conversation(self) -> Conversation:
        row = self._conversation
        return row if isinstance(row, Conversation) else orm_conversation(self.session, row)

    @cached_property
    def patient(self) -> Patient:
        row = self._patient
        return row if isinstance(row, Patient) else orm_patient(self.session, row)

    @property
    def opted_out(self) -> bool:
        """As it is now: an opt-out earlier in the same turn changed the ORM object, once loaded."""
        return self.__dict__.get("patient", self._patient).opted_out


def _escalate(where: Where, action: Escalate) -> None:
    cases.escalate(where.svc, where.session, where.flow, where.conversation, where.patient, action, where.now)


def _forward(where: Where, action: ForwardToNurse) -> None:
    cases.forward(where.session, where.conversation, where.patient, action.quote, where.now)


def _cancel_checkins(where: Where, _action: CancelCheckins) -> None:
    cancel_pending(where.session, where.patient_id)


def _schedule_checkin(where: Where, action: ScheduleCheckin) -> None:
    if where.phone is not None and not where.opted_out:  # no number to text (hidden caller ID), or STOP said
        schedule(where.session, where.conversation_id, where.patient_id, action.ask, where.now + action.after,
                 where.now)


def _opt_out(where: Where, _action: OptOut) -> None:
    where.patient.opted_out_at = where.now
    cancel_pending(where.session, where.patient_id)


def _opt_in(where: Where, _action: OptIn) -> None:
    where.patient.opted_out_at = None


def _set_language(where: Where, action: SetLanguage) -> None:
    where.patient.language = action.language


HANDLERS: dict[type, Callable[[Where, Any], None]] = {
    Escalate: _escalate,
    ForwardToNurse: _forward,
    CancelCheckins: _cancel_checkins,
    ScheduleCheckin: _schedule_checkin,
    OptOut: _opt_out,
    OptIn: _opt_in,
    SetLanguage: _set_language,
}


def carry_out(svc: Services, session: Session, flow: Flow, conversation: Conversation | ConversationRow,
              patient: Patient | PatientRow, actions: Iterable[Action], now: datetime) -> None:
    where = Where(svc, session, flow, conversation, patient, now)
    for action in actions:
        HANDLERS[type(action)](where, action)


def apply(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
          result: Result, now: datetime) -> None:
    """Save the new state and carry out the engine's actions (the ORM path: voice, check-ins, silence)."""
    for name, value in conversation_values(flow, conversation, result.state, now).items():
        setattr(conversation, name, value)
    patient.privacy_notice_sent = patient.privacy_notice_sent or result.state.privacy_notice_sent
    carry_out(svc, session, flow, conversation, patient, result.actions, now)
    session.flush()
