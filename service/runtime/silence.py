"""No dead ends: a patient who goes quiet inside the red-flag screen is not forgotten.

After `silence.reminder_after` (flow file) they get one reminder; after `silence.give_up_after`
more, the case goes to a nurse callback as an incomplete screening. The conversation row holds the
timer (`silence_due_at`, `silence_stage`); the clock claims due rows with a conditional UPDATE, so two
clocks or a restart act once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..engine.state import State
from ..engine.timed import GIVE_UP, REMIND, on_silence
from ..models import Conversation, Patient
from ..outbox.outbound import queue_sms
from ..services import Services
from .actions import apply
from .conversation import flow_of
from .envelope import Turn, run

log = logging.getLogger(__name__)

BATCH = 200


def tick(svc: Services) -> int:
    """Remind or give up on every conversation whose silence timer is due; returns how many moved."""
    now = svc.clock()
    with svc.factory() as session:
        due = session.execute(select(Conversation.id, Conversation.silence_due_at, Conversation.patient_id)
                              .where(Conversation.silence_due_at <= now).limit(BATCH)).all()
    return sum(run(svc, lambda turn, c=conversation_id, d=due_at: _silence_due(turn, c, d), patient_id=patient_id)
               for conversation_id, due_at, patient_id in due)


def _claim(session: Session, conversation_id: int, due_at: object) -> bool:
    """Ours if the timer still holds the value we read: one UPDATE, so only one clock acts."""
    result = session.execute(update(Conversation)
                             .where(Conversation.id == conversation_id, Conversation.silence_due_at == due_at)
                             .values(silence_due_at=None).execution_options(synchronize_session=False))
    return result.rowcount == 1


def _silence_due(turn: Turn[int], conversation_id: int, due_at: object) -> int:
    svc, session, now = turn.svc, turn.session, turn.now
    if not _claim(session, conversation_id, due_at):
        return 0
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    assert conversation is not None
    patient = session.get(Patient, conversation.patient_id)
    assert patient is not None
    flow = flow_of(svc, session, conversation)
    state = State.from_json(conversation.state)
    stage = REMIND if conversation.silence_stage == 0 else GIVE_UP
    result = on_silence(flow, state, stage, svc.context)
    if stage == REMIND:
        conversation.silence_stage = 1
        conversation.silence_due_at = now + flow.silence.give_up_after
    else:
        apply(svc, session, flow, conversation, patient, result, now)
    if patient.phone and not patient.opted_out and result.messages:
        body = "\n\n".join(m.text for m in result.messages)
        queue_sms(session, to=patient.phone, body=body, kind="reminder" if stage == REMIND else "reply",
                  now=now, patient_id=patient.id, conversation_id=conversation.id, key=stage)
    log.info("silence.%s conversation=%s", stage, conversation_id)
    return 1
