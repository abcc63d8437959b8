"""The engine's actions, carried out in the turn's transaction: one table from action type to handler."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
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
from .conversation import conversation_values


@dataclass(frozen=True)
class Where:
    """What a handler acts on: the turn's services, transaction, flow, conversation and patient."""

    svc: Services
    session: Session
    flow: Flow
    conversation: Conversation
    patient: Patient
    now: datetime


def _escalate(where: Where, action: Escalate) -> None:
    cases.escalate(where.svc, where.session, where.flow, where.conversation, where.patient, action, where.now)


def _forward(where: Where, action: ForwardToNurse) -> None:
    cases.forward(where.session, where.conversation, where.patient, action.quote, where.now)


def _cancel_checkins(where: Where, _action: CancelCheckins) -> None:
    cancel_pending(where.session, where.patient)


def _schedule_checkin(where: Where, action: ScheduleCheckin) -> None:
    schedule(where.session, where.conversation, where.patient, action.ask, where.now + action.after, where.now)


def _opt_out(where: Where, _action: OptOut) -> None:
    where.patient.opted_out_at = where.now
    cancel_pending(where.session, where.patient)


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


def carry_out(svc: Services, session: Session, flow: Flow, conversation: Conversation, patient: Patient,
              actions: Iterable[Action], now: datetime) -> None:
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
