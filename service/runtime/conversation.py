"""A conversation's rows: the patient locked once, the receipt, the conversation loaded, started and
saved. Plain Core statements built once: every text runs them, and the ORM's identity map and unit of
work cost several times more per row (bench/load.py). Rare steps load ORM objects (orm_patient).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from .. import fastsql
from ..checkins.schedule import CHECKIN_OUT
from ..engine.flow import Flow
from ..engine.state import ACTIVE, DONE, State
from ..engine.timed import silence_timer
from ..escalation import cases
from ..flowstore import FlowStore
from ..models import Conversation, Patient, WebhookReceipt
from ..outbox.outbound import INSERT_MESSAGE
from ..services import Services

# Every inbound text runs the statements below, so they are plain Core statements on the session's
# connection (same transaction), built once: the ORM's identity map and unit of work cost several
# times more per row (bench/load.py). Rare steps (escalations, check-ins, opt-outs) load ORM objects.
PATIENTS = Patient.__table__
CONVERSATIONS = Conversation.__table__
RECEIPTS = WebhookReceipt.__table__
PATIENT_COLUMNS = (PATIENTS.c.id, PATIENTS.c.phone, PATIENTS.c.language, PATIENTS.c.opted_out_at,
                   PATIENTS.c.privacy_notice_sent, PATIENTS.c.messaging_channel)
LOCK_PATIENT = select(*PATIENT_COLUMNS).where(PATIENTS.c.phone == bindparam("phone")).with_for_update()
LOCK_PATIENT_BY_ID = select(*PATIENT_COLUMNS).where(PATIENTS.c.id == bindparam("id")).with_for_update()
READ_RECEIPT = select(RECEIPTS.c.response).where(RECEIPTS.c.key == bindparam("key"))
STORE_RECEIPT = insert(RECEIPTS)
INSERT_CONVERSATION = insert(CONVERSATIONS)
_latest = CONVERSATIONS.alias("latest")
# A second statement, after the lock: under Postgres' READ COMMITTED each statement sees what was
# committed before it began, so a duplicate webhook that waited for the lock sees the first one's receipt.
READ_TURN = select(
    CONVERSATIONS.c.id, CONVERSATIONS.c.flow_id, CONVERSATIONS.c.flow_version, CONVERSATIONS.c.channel,
    CONVERSATIONS.c.state, CONVERSATIONS.c.status, CONVERSATIONS.c.updated_at, CONVERSATIONS.c.silence_stage,
    CONVERSATIONS.c.version,
    READ_RECEIPT.scalar_subquery().label("seen"),
    cases.LATEST_OPEN_CASE.scalar_subquery().label("case_id"),
    cases.LATEST_OPEN_CASE.with_only_columns(cases.ESCALATIONS.c.nurse_phone).scalar_subquery().label("case_nurse"),
    CHECKIN_OUT.label("checkin_out"),
).where(CONVERSATIONS.c.id == select(func.max(_latest.c.id))
        .where(_latest.c.patient_id == bindparam("patient_id")).scalar_subquery())
SAVE_CONVERSATION = (update(CONVERSATIONS)
                     .where(CONVERSATIONS.c.id == bindparam("b_id"), CONVERSATIONS.c.version == bindparam("b_version"))
                     .values(version=CONVERSATIONS.c.version + 1))


@dataclass
class PatientRow:
    id: int
    phone: str | None
    language: str
    opted_out_at: datetime | None
    privacy_notice_sent: bool
    messaging_channel: str  # sms | whatsapp: the channel they last wrote on

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


@dataclass
class ConversationRow:
    id: int
    flow_id: str
    flow_version: str
    channel: str
    state: dict[str, Any]
    status: str
    updated_at: datetime
    silence_stage: int
    version: int


def lock_patient_row(session: Session, phone: str | None, now: datetime) -> PatientRow:
    """The patient's row, created if new, locked for this transaction (Postgres: FOR UPDATE)."""
    connection = session.connection()
    new = {"language": "en", "privacy_notice_sent": False, "created_at": now}
    if phone is None:  # hidden caller ID: a patient of their own, with nothing to text
        patient_id = connection.execute(insert(PATIENTS), {"phone": None, **new}).inserted_primary_key[0]
        return PatientRow(patient_id, None, "en", None, False, "sms")
    row = fastsql.execute(connection, LOCK_PATIENT, {"phone": phone}).first()  # most texts: a known patient
    if row is None:
        dialect = connection.dialect.name
        upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        connection.execute(upsert(PATIENTS).values(phone=phone, **new).on_conflict_do_nothing(index_elements=["phone"]))
        row = fastsql.execute(connection, LOCK_PATIENT, {"phone": phone}).first()
        assert row is not None
    return PatientRow(*row)


def lock_patient_by_id(session: Session, patient_id: int) -> PatientRow | None:
    """A known patient's row, locked (a clock job, a nurse's action): no patient is created."""
    row = session.connection().execute(LOCK_PATIENT_BY_ID, {"id": patient_id}).first()
    return PatientRow(*row) if row is not None else None


def lock_patient(session: Session, phone: str | None, now: datetime) -> Patient:
    """The same, as an ORM object (voice, the CLI)."""
    patient = session.get(Patient, lock_patient_row(session, phone, now).id)
    assert patient is not None
    return patient


def receipt(session: Session, key: str | None) -> str | None:
    if key is None:
        return None
    return fastsql.execute(session, READ_RECEIPT, {"key": key}).scalar()


def store_receipt(session: Session, key: str | None, response: str, now: datetime) -> None:
    if key is not None:
        fastsql.execute(session, STORE_RECEIPT, {"key": key, "response": response, "created_at": now})


def open_conversation(session: Session, flows: FlowStore, patient: Patient | PatientRow, channel: str,
                      now: datetime, call_sid: str | None = None) -> ConversationRow:
    loaded = flows.current()
    flows.remember(session, loaded, now)
    state = State(language=patient.language, privacy_notice_sent=patient.privacy_notice_sent).to_json()
    row = ConversationRow(0, loaded.flow.id, loaded.version, channel, state, ACTIVE, now, 0, 1)
    result = session.connection().execute(INSERT_CONVERSATION, {
        "patient_id": patient.id, "flow_id": row.flow_id, "flow_version": row.flow_version, "channel": channel,
        "call_sid": call_sid, "state": state, "status": ACTIVE, "started_at": now, "updated_at": now,
        "silence_stage": 0, "version": 1})
    row.id = result.inserted_primary_key[0]
    return row


def start_conversation(session: Session, flows: FlowStore, patient: Patient, channel: str, now: datetime,
                       call_sid: str | None = None) -> Conversation:
    conversation = session.get(Conversation, open_conversation(session, flows, patient, channel, now, call_sid).id)
    assert conversation is not None
    return conversation


def flow_of(svc: Services, session: Session, conversation: Conversation | ConversationRow) -> Flow:
    return svc.flows.pinned(session, conversation.flow_id, conversation.flow_version).flow


@dataclass
class Situation:
    """What an inbound text needs besides the patient, read in one statement."""

    conversation: ConversationRow | None  # the latest, whether or not it has expired
    seen: str | None  # this webhook's answer, if it was handled before
    case_id: int | None  # the patient's latest open case
    case_nurse: str | None  # the nurse who has (or was paged for) it
    checkin_out: bool  # a check-in was sent and awaits the answer


def read_situation(session: Session, patient_id: int, key: str | None) -> Situation:
    row = fastsql.execute(session, READ_TURN, {"patient_id": patient_id, "key": key}).first()
    if row is None:  # no conversation yet: a new patient (who has no cases or check-ins either)
        return Situation(None, receipt(session, key), None, None, False)
    seen, case_id, case_nurse, checkin_out = row[9:]
    return Situation(ConversationRow(*row[:9]), seen, case_id, case_nurse, bool(checkin_out))


def current_conversation(svc: Services, session: Session, patient: PatientRow, situation: Situation,
                         now: datetime, channel: str = "sms") -> ConversationRow:
    latest = situation.conversation
    if latest is not None:
        if latest.updated_at + flow_of(svc, session, latest).expiry > now:
            return latest
        if latest.status != DONE:
            save_conversation(session, latest, {"status": "expired"})
    return open_conversation(session, svc.flows, patient, channel, now)


def save_conversation(session: Session, conversation: ConversationRow, values: dict[str, Any]) -> None:
    """One UPDATE, checked against the version read: a lost update raises, as the ORM's version column does."""
    result = fastsql.execute(session, SAVE_CONVERSATION,
                             {"b_id": conversation.id, "b_version": conversation.version, **values})
    if result.rowcount != 1:
        raise StaleDataError(f"conversation {conversation.id} changed under this webhook")
    conversation.version += 1


def record_inbound(session: Session, patient_id: int, conversation_id: int | None, channel: str, text: str,
                   sid: str | None, now: datetime, kind: str = "answer") -> int:
    """The inbound row; its id (media attached to the text point at it)."""
    new_id = fastsql.execute(session, INSERT_MESSAGE, {
        "patient_id": patient_id, "conversation_id": conversation_id, "direction": "in", "channel": channel,
        "kind": kind, "body": text, "status": "received", "twilio_sid": sid, "created_at": now}).new_id
    assert new_id is not None
    return new_id


def orm_patient(session: Session, patient: PatientRow) -> Patient:
    found = session.get(Patient, patient.id)
    assert found is not None
    return found


def orm_conversation(session: Session, conversation: ConversationRow) -> Conversation:
    found = session.get(Conversation, conversation.id)  # after save_conversation: the row as it is now
    assert found is not None
    return found


def conversation_values(flow: Flow, conversation: Conversation | ConversationRow, new: State,
                        now: datetime) -> dict[str, Any]:
    """The conversation's columns after a step: its state and the silence timer (silence.py)."""
    read_as = "voice" if conversation.channel == "voice" else "sms"  # to the engine a WhatsApp message is a text
    due_at, stage = silence_timer(flow, read_as, new, now, conversation.silence_stage)
    return {"state": new.to_json(), "status": new.status, "node": new.node, "outcome": new.outcome,
            "level": new.level.value if new.level else None,
            "disposition": new.level.disposition if new.level else None, "updated_at": now,
            "silence_due_at": due_at, "silence_stage": stage}
