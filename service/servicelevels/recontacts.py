"""The outcomes heldup.py judges, read from the database.

An outcome is read from what the line said: each outbound text or prompt carries the flow node ids it came
from (messages.key), and the conversation's own pinned flow says which of them are outcomes and at what level
(conversations.level holds only the latest one: a check-in's "worse" overwrites the home-care advice). The
cases a conversation opened count too, at their level and opening time.

Rows written before migration 0008 had messages.key cut at 64 characters, which a long turn's keys could
reach: a conversation with an outcome but none in its keys falls back on its own (latest) outcome and level,
at the time of its last reply.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..engine.flow import Outcome as OutcomeNode
from ..flowstore import FlowStore
from ..models import Conversation, Escalation, Message
from ..records.summary import LINE_KINDS
from .heldup import WITHIN, HeldUp, Outcome, held_up


def load_outcomes(session: Session, flows: FlowStore, start: datetime, end: datetime) -> list[Outcome]:
    """Every outcome that can decide advice given in [start, end): from conversations still going at `start`
    and begun before the last advice's 7 days are over."""
    in_reach = (Conversation.started_at < end + WITHIN) & (Conversation.updated_at >= start)
    conversations = {row.id: row for row in session.execute(
        select(Conversation.id, Conversation.patient_id, Conversation.flow_id, Conversation.flow_version,
               Conversation.outcome, Conversation.level, Conversation.updated_at)
        .where(in_reach))}
    said = session.execute(
        select(Message.conversation_id, Message.key, Message.created_at)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(in_reach, Message.direction == "out", Message.kind.in_(LINE_KINDS), Message.key.is_not(None))
        .order_by(Message.id))
    found: list[Outcome] = []
    seen_first: set[int] = set()
    last_said: dict[int, datetime] = {}
    for conversation_id, keys, at in said:
        conversation = conversations[conversation_id]
        last_said[conversation_id] = at
        nodes = flows.pinned(session, conversation.flow_id, conversation.flow_version).flow.nodes
        for key in keys.split(","):
            node = nodes.get(key)
            if isinstance(node, OutcomeNode):
                found.append(Outcome(conversation.patient_id, conversation_id, node.level.value, at,
                                     first=conversation_id not in seen_first, node=key))
                seen_first.add(conversation_id)
    found += [Outcome(c.patient_id, c.id, c.level, last_said.get(c.id, c.updated_at), first=True, node=c.outcome)
              for c in conversations.values() if c.outcome and c.level and c.id not in seen_first]
    cases = session.execute(
        select(Escalation.id, Escalation.patient_id, Escalation.conversation_id, Escalation.level,
               Escalation.created_at)
        .join(Conversation, Conversation.id == Escalation.conversation_id).where(in_reach))
    found += [Outcome(c.patient_id, c.conversation_id, c.level, c.created_at, case_id=c.id) for c in cases]
    return found


def held_up_between(session: Session, flows: FlowStore, start: datetime, end: datetime, now: datetime) -> HeldUp:
    """The held-up figures for the advice given in [start, end)."""
    return held_up(load_outcomes(session, flows, start, end), now, start, end)
