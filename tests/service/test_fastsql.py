"""A text's hot statements on the DB-API cursor (service/fastsql.py) send what SQLAlchemy's execution layer
would send, parameters and all, and read back the same rows: each statement is run both ways, in a
transaction rolled back after each, on the test's database (SQLite, or Postgres with DATABASE_URL), after a
real conversation with an open case has written the rows they read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from service import fastsql
from service.models import Conversation, Message, Patient
from service.outbox.outbound import INSERT_MESSAGE
from service.privacy.keys import SEALED
from service.runtime.conversation import (
    LOCK_PATIENT,
    LOCK_PATIENT_BY_ID,
    READ_RECEIPT,
    READ_TURN,
    SAVE_CONVERSATION,
    STORE_RECEIPT,
)
from service.services import Services
from tests.conftest import PATIENT, Twilio, play

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def both_ways(engine: Engine, statement: Any, params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """(what was sent, what came back) through SQLAlchemy, then through fastsql."""
    outcomes = []
    for run in (lambda c: _through_sqlalchemy(c, statement, params), lambda c: _through_fastsql(c, statement, params)):
        sent: list[tuple[str, Any]] = []

        def record(_conn, _cursor, sql, parameters, _context, _many, sent=sent) -> None:  # type: ignore[no-untyped-def]
            sent.append((sql, _unsealed(parameters)))

        event.listen(engine, "before_cursor_execute", record)
        try:
            with engine.connect() as connection:
                transaction = connection.begin()
                back = run(connection)
                transaction.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        outcomes.append((sent, back))
    (sent_a, back_a), (sent_b, back_b) = outcomes
    return [sent_a, back_a], [sent_b, back_b]


def _through_sqlalchemy(connection, statement, params):  # type: ignore[no-untyped-def]
    result = connection.execute(statement, params)
    if statement.is_insert:
        return "inserted"  # what was sent is the comparison; the new id is checked below
    return ("rowcount", result.rowcount) if statement.is_update else [tuple(row) for row in result]


def _through_fastsql(connection, statement, params):  # type: ignore[no-untyped-def]
    result = fastsql.execute(connection, statement, params)
    if statement.is_insert:
        return "inserted"  # what was sent is the comparison; the new id is checked below
    return ("rowcount", result.rowcount) if statement.is_update else result.rows


def _unsealed(parameters: Any) -> Any:
    """A sealed value carries a random nonce (the same text sealed twice differs): compared as sealed."""
    def one(value: Any) -> Any:
        value = getattr(value, "obj", value)  # psycopg's Json wrapper: compared by what it wraps
        return "<sealed>" if isinstance(value, str) and value.lstrip("\"").startswith(SEALED) else value
    if isinstance(parameters, dict):
        return {name: one(value) for name, value in parameters.items()}
    return tuple(one(value) for value in parameters)


def test_each_hot_statement_sends_and_reads_what_sqlalchemy_would(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi, my back is in spasm", "yes")  # fainting: an open case, pages queued
    with svc.factory() as session:
        patient = session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()
        conversation = session.scalars(select(Conversation)).one()
    key = "sms:SM" + "1" * 32
    cases = [
        (LOCK_PATIENT, {"phone": PATIENT}),
        (LOCK_PATIENT_BY_ID, {"id": patient.id}),
        (READ_TURN, {"patient_id": patient.id, "key": key}),
        (READ_RECEIPT, {"key": key}),
        (INSERT_MESSAGE, {"patient_id": patient.id, "conversation_id": conversation.id, "direction": "in",
                          "channel": "sms", "kind": "answer", "body": "no", "status": "received",
                          "twilio_sid": "SM" + "2" * 32, "created_at": NOW}),
        (INSERT_MESSAGE, {"patient_id": patient.id, "conversation_id": conversation.id, "direction": "out",
                          "channel": "sms", "kind": "reply", "key": "q_faint", "to_phone": PATIENT, "body": "a reply",
                          "status": "twiml", "attempts": 1, "created_at": NOW, "sent_at": NOW}),
        (SAVE_CONVERSATION, {"b_id": conversation.id, "b_version": conversation.version, "state": {"node": "x"},
                             "status": "active", "updated_at": NOW}),
        (SAVE_CONVERSATION, {"b_id": conversation.id, "b_version": conversation.version + 5, "status": "active"}),
        (STORE_RECEIPT, {"key": key, "response": "[]", "created_at": NOW}),
    ]
    for statement, params in cases:
        by_sqlalchemy, by_fastsql = both_ways(svc.engine, statement, params)
        assert by_fastsql == by_sqlalchemy, str(statement)
    read_turn = both_ways(svc.engine, READ_TURN, {"patient_id": patient.id, "key": key})[1][1]
    assert read_turn and read_turn[0][0] == conversation.id and read_turn[0][10] is not None  # the open case
    assert both_ways(svc.engine, SAVE_CONVERSATION, cases[6][1])[1][1] == ("rowcount", 1)
    with svc.factory() as session, session.begin():  # the new row's id, as record_inbound reads it
        new_id = fastsql.execute(session, INSERT_MESSAGE, cases[4][1]).new_id
        assert new_id is not None and session.get(Message, new_id) is not None
        session.rollback()


def test_a_lost_race_raises_as_sqlalchemy_raises_it(svc: Services) -> None:
    from sqlalchemy.exc import IntegrityError
    with svc.factory() as session, session.begin():
        fastsql.execute(session, STORE_RECEIPT, {"key": "sms:twice", "response": "[]", "created_at": NOW})
        with pytest.raises(IntegrityError), session.begin_nested():
            fastsql.execute(session, STORE_RECEIPT, {"key": "sms:twice", "response": "[]", "created_at": NOW})
