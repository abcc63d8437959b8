"""A call's rows on the same fast path as a text (runtime/sms.py): the patient locked once, the call's
conversation and the callback's receipt read in one statement, the answer and the prompt inserted, the
conversation saved by one versioned UPDATE. An answer to a question is six statements and the commit
(tests/service/test_voice_statements.py). ORM objects are loaded only when something needs them (the
engine's actions, check-ins after the text offer).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.orm import Session

from ..engine.flow import Flow
from ..engine.state import Result, State
from ..models import Conversation, Message, Patient
from ..outbox.outbound import INSERT_MESSAGE
from ..services import Services
from .actions import carry_out
from .conversation import (
    CONVERSATIONS,
    PATIENTS,
    READ_RECEIPT,
    ConversationRow,
    PatientRow,
    conversation_values,
    lock_patient_by_id,
    receipt,
    save_conversation,
)

MESSAGES = Message.__table__
_by_call = CONVERSATIONS.alias("by_call")
_CALL = select(func.max(_by_call.c.id)).where(_by_call.c.call_sid == bindparam("call_sid")).scalar_subquery()
# After the lock, in one statement (as READ_TURN for a text): the call's conversation, this callback's
# receipt, and whether the caller has answered anything yet (the first answer is told apart).
READ_CALL = select(
    *(CONVERSATIONS.c[column.name] for column in fields(ConversationRow)), CONVERSATIONS.c.patient_id,
    READ_RECEIPT.scalar_subquery().label("seen"),
    exists().where(MESSAGES.c.conversation_id == CONVERSATIONS.c.id, MESSAGES.c.kind == "answer").label("answered"),
).where(CONVERSATIONS.c.id == _CALL)
CALL_PATIENT = select(CONVERSATIONS.c.patient_id).where(CONVERSATIONS.c.id == _CALL)
_ROW = len(fields(ConversationRow))


@dataclass
class CallSituation:
    """What a callback needs besides its own input, read after the patient's lock."""

    seen: str | None  # this callback's answer, if it was handled before
    patient: PatientRow | None  # locked
    conversation: ConversationRow | None  # the call's conversation (None: the call never began here)
    answered: bool = False  # the caller has answered something on this call before this callback


def read_call(session: Session, patient: PatientRow | None, key: str | None, call_sid: str) -> CallSituation:
    """`patient`: locked by the caller's number; None when the callback carries none (a Dial or Record
    action, a hidden number): then the call's patient is found and locked first."""
    connection = session.connection()
    if patient is None:
        patient_id = connection.execute(CALL_PATIENT, {"call_sid": call_sid}).scalar()
        patient = lock_patient_by_id(session, patient_id) if patient_id is not None else None
    row = connection.execute(READ_CALL, {"call_sid": call_sid, "key": key}).first()
    if row is not None and (patient is None or row.patient_id != patient.id):
        # the call is another patient's (a number shown on one callback, not on the first): lock theirs, read again
        patient = lock_patient_by_id(session, row.patient_id)
        row = connection.execute(READ_CALL, {"call_sid": call_sid, "key": key}).first()
    if row is None:
        return CallSituation(receipt(session, key), patient, None)
    return CallSituation(row.seen, patient, ConversationRow(*row[:_ROW]), bool(row.answered))


@dataclass
class CallRows:
    """One callback's conversation and patient: plain rows, their changes saved in one UPDATE at `save`;
    or, once `orm()` is asked for, the ORM objects (the rows' changes saved first)."""

    svc: Services
    session: Session
    flow: Flow
    row: ConversationRow
    patient_row: PatientRow
    now: datetime
    changes: dict[str, Any] = field(default_factory=dict)
    _orm: tuple[Conversation, Patient] | None = None

    @property
    def conversation(self) -> ConversationRow | Conversation:
        return self._orm[0] if self._orm else self.row

    @property
    def patient(self) -> PatientRow | Patient:
        return self._orm[1] if self._orm else self.patient_row

    def change(self, values: dict[str, Any]) -> None:
        if self._orm:
            for name, value in values.items():
                setattr(self._orm[0], name, value)
            return
        for name, value in values.items():
            if hasattr(self.row, name):  # the row as the menu reads it (state, status) stays current
                setattr(self.row, name, value)
        self.changes.update(values)

    def save(self) -> None:
        """The conversation's one UPDATE, checked against the version read (runtime/conversation.py)."""
        if self._orm:
            self.session.flush()
        elif self.changes:
            save_conversation(self.session, self.row, self.changes)
            self.changes = {}

    def orm(self) -> tuple[Conversation, Patient]:
        if self._orm is None:
            self.save()
            conversation = self.session.get(Conversation, self.row.id, populate_existing=True)
            patient = self.session.get(Patient, self.patient_row.id, populate_existing=True)
            assert conversation is not None and patient is not None
            self._orm = (conversation, patient)
        return self._orm

    def notice_sent(self) -> None:
        """The patient has had the privacy notice (by text)."""
        if self._orm:
            self._orm[1].privacy_notice_sent = True
        elif not self.patient_row.privacy_notice_sent:
            self.session.connection().execute(update(PATIENTS).where(PATIENTS.c.id == self.patient_row.id)
                                              .values(privacy_notice_sent=True))
            self.patient_row.privacy_notice_sent = True

    def advance(self, result: Result) -> None:
        """The engine's step: the new state with the rest of the turn's changes, its actions carried out."""
        self.change(conversation_values(self.flow, self.conversation, result.state, self.now))
        if result.state.privacy_notice_sent:
            self.notice_sent()
        if result.actions:
            conversation, patient = self.orm()
            carry_out(self.svc, self.session, self.flow, conversation, patient, result.actions, self.now)
            self.session.flush()

    def state(self) -> State:
        return State.from_json(self.conversation.state)

    def record(self, *, kind: str, key: str, body: str, sid: str | None) -> None:
        """What the caller did (a call begun, a key pressed, words said): the inbound row."""
        self.session.connection().execute(INSERT_MESSAGE, {
            "patient_id": self.patient_row.id, "conversation_id": self.row.id, "direction": "in", "channel": "voice",
            "kind": kind, "key": key, "body": body, "status": "received", "twilio_sid": sid, "created_at": self.now})
