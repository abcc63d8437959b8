"""A patient's text, through the envelope: the conversation moves on once, however often Twilio asks.

A text that only moves the conversation on (most of them) is six statements and the commit (counted
by tests/service/test_sms_statements.py): lock the patient, read the rest (conversation, receipt, open case,
check-in out), the inbound row, the conversation's UPDATE, the reply row, the receipt. Only the
engine's actions load ORM objects.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from .. import media as media_rows
from ..channels.twilio_http import split_for_sms
from ..checkins.schedule import replied
from ..engine import redflags
from ..engine.flow import Flow
from ..engine.render import localize
from ..engine.state import Result, State
from ..engine.step import step
from ..escalation import cases
from ..media import Media
from ..outbox.outbound import queue_sms, record_reply
from ..services import Services
from ..whatsapp.inbound import remember_channel
from .actions import carry_out
from .conversation import (
    PATIENTS,
    ConversationRow,
    PatientRow,
    Situation,
    conversation_values,
    current_conversation,
    flow_of,
    read_situation,
    record_inbound,
    save_conversation,
)
from .envelope import Codec, Turn, run


@dataclass(frozen=True)
class Replies:
    """What one inbound text produced, for the channel to render."""

    replies: list[str]
    conversation_id: int | None


_REPLIES = Codec[Replies](lambda answer: json.dumps(answer.replies), lambda raw: Replies(json.loads(raw), None))


def receive_sms(svc: Services, *, phone: str | None, text: str, sid: str | None,
                answered_by_twilio: str | None = None, media: tuple[Media, ...] = (),
                received_at: datetime | None = None, channel: str = "sms") -> Replies:
    """Handle one inbound SMS from a patient. A repeated MessageSid gets the same answer, once.
    `answered_by_twilio`: the keyword reply ("stop", "start", "help") Twilio already sent (Advanced Opt-Out).
    `media`: photos or files with it, kept on the conversation (the engine reads only the words).
    `received_at`: a text replayed from the outage spool, received then: its replies go out as texts (the
    webhook was answered long ago), and if the conversation moved on since, it answers no question.
    `channel`: sms or whatsapp: the patient's texts go back on the one they last wrote on."""

    def work(turn: Turn[Replies]) -> Replies:
        patient, situation = turn.patient, turn.found
        assert patient is not None and isinstance(situation, Situation)
        conversation = current_conversation(turn.svc, turn.session, patient, situation, turn.now, channel)
        remember_channel(turn.session, patient, channel, turn.now)
        if conversation.channel in ("sms", "whatsapp"):  # switched mid-conversation: the latest one counts
            conversation.channel = channel
        late = (received_at is not None and conversation is situation.conversation
                and conversation.updated_at > received_at)  # the patient (or the clock) moved it on meanwhile
        message_id = record_inbound(turn.session, patient.id, conversation.id, channel, text, sid, turn.now,
                                    kind="answer" if received_at is None else "late")
        media_rows.store(turn.session, message_id=message_id, patient_id=patient.id,
                         conversation_id=conversation.id, media=media, now=turn.now)
        bodies = _advance(turn, conversation, patient, situation, text, answered_by_twilio, len(media), late,
                          by_text=received_at is not None)
        if situation.case_id is not None and situation.case_nurse is not None:
            # the nurse sees every text, once
            cases.relay_to_nurse(turn.session, situation.case_id, patient.id,
                                 media_rows.nurse_note(text, len(media)), turn.now)
        return Replies(bodies, conversation.id)

    with _read_ahead(svc, text):
        return run(svc, work, key=f"sms:{sid}" if sid else None, codec=_REPLIES, phone=phone,
                   read=lambda session, patient, key: read_situation(session, patient.id, key))  # type: ignore[union-attr]


def _read_ahead(svc: Services, text: str) -> AbstractContextManager[None]:
    """A long text's red-flag scan, before the transaction (on SQLite, outside the one writer's turn), for
    the clinic's current flow, which nearly every conversation is on (another flow scans inside, as before).
    A short answer's findings are remembered by the engine already."""
    if len(text) <= redflags.REMEMBER_UP_TO:
        return nullcontext()
    return redflags.read_ahead(svc.flows.current().flow, text)


def _advance(turn: Turn[Replies], conversation: ConversationRow, patient: PatientRow, situation: Situation,
             text: str, answered_by_twilio: str | None, media: int = 0, late: bool = False,
             by_text: bool = False) -> list[str]:
    """Run the engine on one text and save everything it decided. Returns the reply bodies."""
    svc, session, now = turn.svc, turn.session, turn.now
    flow = flow_of(svc, session, conversation)
    result = step(flow, State.from_json(conversation.state), text, svc.context, opted_out=patient.opted_out,
                  with_nurse=situation.case_nurse is not None, media=media, late=late)
    if answered_by_twilio is not None:  # the carrier confirmation went out already: one, not two (FCC 2024)
        result = Result(result.state, [m for m in result.messages if m.key != answered_by_twilio], result.actions)
    new = result.state
    save_conversation(session, conversation, {**conversation_values(flow, conversation, new, now),
                                              "last_inbound_at": now, "channel": conversation.channel})
    if new.privacy_notice_sent and not patient.privacy_notice_sent:
        session.connection().execute(update(PATIENTS).where(PATIENTS.c.id == patient.id)
                                     .values(privacy_notice_sent=True))
    if result.actions:
        carry_out(svc, session, flow, conversation, patient, result.actions, now)
        session.flush()
    if situation.checkin_out:
        replied(session, patient.id, now)  # the check-in that is out is answered: no reminder follows
    bodies = [m.text for m in result.messages]
    if bodies and by_text:
        return _text_replies(turn, flow, conversation, patient, result)
    if bodies:
        record_reply(session, patient_id=patient.id, conversation_id=conversation.id,
                     channel=patient.messaging_channel, body="\n\n".join(bodies),
                     key=",".join(m.key for m in result.messages), now=now, to=patient.phone)
    return bodies


def _text_replies(turn: Turn[Replies], flow: Flow, conversation: ConversationRow, patient: PatientRow,
                  result: Result) -> list[str]:
    """A replayed text's replies: its webhook was answered long ago (the safe text), so they go out through
    the outbox, after a word on the delay."""
    lead = flow.messages.sms_late
    bodies = ([localize(lead, result.state.language, turn.svc.context)] if lead else []) + [m.text for m in
                                                                                            result.messages]
    assert patient.phone is not None  # a text comes from a number
    key = ",".join(m.key for m in result.messages)
    for body in split_for_sms(bodies):
        queue_sms(turn.session, to=patient.phone, body=body, kind="reply", now=turn.now, patient_id=patient.id,
                  conversation_id=conversation.id, key=key)
    return bodies
