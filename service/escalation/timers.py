"""Ack timers: a page nobody acknowledges is followed until a nurse owns the case.

The rows are the timers: `Escalation.next_action_at` says when the next step is due. The clock
(APScheduler, service/clock.py) runs `tick` every few seconds; each due case is claimed with a
conditional UPDATE on the value it read (`WHERE id = ? AND next_action_at = <read>`), in the same
transaction as the page it queues. Two clocks, or a clock restarted mid-wait, act once; a crash
before the commit leaves the case due, so the step is retried rather than lost.

Each step: re-page the same nurse (`repages` times), then the next in the roster's chain, then the
fallback line and the patient (cases.exhaust). Emergencies wait `ack_timeout_emergency` between
steps, callbacks `ack_timeout`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..models import Conversation, Escalation, Message, Patient
from ..outbox.outbound import SendError
from ..runtime import envelope
from ..services import Services
from ..statuses import UNOWNED_STATUSES
from . import cases
from .cases import audit

log = logging.getLogger(__name__)

BATCH = 100


def tick(svc: Services) -> int:
    """Take every due step once; returns how many cases moved."""
    now = svc.clock()
    with svc.factory() as session:
        due = session.execute(
            select(Escalation.id, Escalation.next_action_at, Escalation.patient_id)
            .where(Escalation.next_action_at <= now, Escalation.status.in_(UNOWNED_STATUSES))
            .order_by(Escalation.next_action_at).limit(BATCH)
        ).all()
    return sum(envelope.run(svc, partial(_due, case_id=case_id, due_at=due_at), patient_id=patient_id)
               for case_id, due_at, patient_id in due)


def _due(turn: envelope.Turn[int], *, case_id: int, due_at: datetime) -> int:
    if not claim(turn.session, case_id, due_at):
        return 0  # another clock took it, or a nurse acknowledged it meanwhile
    case = turn.session.get(Escalation, case_id, populate_existing=True)
    assert case is not None
    follow_up(turn.svc, turn.session, case, turn.now)
    return 1


def claim(session: Session, case_id: int, due_at: datetime) -> bool:
    """Ours if the timer still holds the value we read: one UPDATE, so only one clock wins."""
    result = session.execute(
        update(Escalation)
        .where(Escalation.id == case_id, Escalation.next_action_at == due_at, Escalation.status.in_(UNOWNED_STATUSES))
        .values(next_action_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def follow_up(svc: Services, session: Session, case: Escalation, now: datetime) -> None:
    """The ack timeout ran out: page the same nurse again, or pass the case down the chain."""
    patient = session.get(Patient, case.patient_id)
    assert patient is not None
    conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
    flow = (svc.flows.current() if conversation is None
            else svc.flows.pinned(session, conversation.flow_id, conversation.flow_version)).flow
    previous = svc.roster.nurse_by_phone(case.nurse_phone)
    who = previous.name if previous else "the nurse paged"
    if case.repages_done < svc.roster.repages:
        case.repages_done += 1
        audit(session, case, "ack_timeout", now, detail=f"{who}: paging again")
        cases.page(svc, session, flow, case, patient, now, why=f"REPEAT {case.repages_done + 1}:")
        return
    case.chain_position += 1
    case.repages_done = 0
    audit(session, case, "passed_on", now, detail=f"not acknowledged by {who}")
    cases.page(svc, session, flow, case, patient, now, why=f"Not acknowledged by {who}.")


def on_send_failure(svc: Services, session: Session, message: Message, error: SendError, now: datetime, *,
                    permanent: bool) -> None:
    """Outbox hook: any failed text or call of a case shows in its audit trail; a page that can never be
    delivered passes the case down the chain at once instead of waiting out the ack timeout."""
    if message.escalation_id is None or message.direction != "out":
        return
    case = session.get(Escalation, message.escalation_id)
    if case is None:
        return
    nurse = svc.roster.staff_by_phone(message.to_phone)
    outcome = "gave up" if permanent else f"attempt {message.attempts}, retrying"
    audit(session, case, f"{message.kind}_failed", now,
          detail=f"{nurse.name if nurse else message.kind}: {outcome}: {error}")
    if not (permanent and message.kind == "page"):
        return
    moved = session.execute(
        update(Escalation)
        .where(Escalation.id == case.id, Escalation.status.in_(UNOWNED_STATUSES),
               Escalation.nurse_phone == message.to_phone, Escalation.next_action_at.is_not(None))
        .values(repages_done=svc.roster.repages, next_action_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount:
        log.warning("escalation.page_undeliverable case=%s message_id=%s", case.id, message.id)


def install(svc: Services) -> None:
    """Register the outbox hooks (create_app calls this once per app)."""
    svc.outbox.failure_hooks.append(partial(on_send_failure, svc, permanent=True))
    svc.outbox.retry_hooks.append(partial(on_send_failure, svc, permanent=False))
