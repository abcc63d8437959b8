"""Patient content at rest: with DATA_KEY set, what patients said (texts, answers, quotes, speech), what
nurses wrote about them (notes, relayed texts) and voicemail links are nowhere in the database in the clear:
not in the SQLite file's bytes, not in raw queries (sqlite3, or psycopg on Postgres: no SQLAlchemy type
in between). Without a key (dev) the same columns stay readable. `flask data rotate-key` re-seals every
value under a new key, and the dashboard reads every case before and after.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import Text, cast, select, text

from service import create_app
from service.models import AdviceReview, Conversation, Escalation, EscalationEvent, Message
from service.privacy.keys import DataKeyError, Keyring, key_id, new_key, parse_key
from service.privacy.rotate import sealed_columns
from service.services import Services
from service.settings import Settings
from tests.conftest import DATA_KEY, NURSE_AVERY, PATIENT, FakeClock, Twilio
from tests.dashboard_client import create_user, login
from tests.service.test_voice import Call

CALLER = "+12125550177"
VOICEMAIL = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/REzucchini0000000000000000000000"
# Words only these patients and this nurse used: if any is in the database in the clear, it leaked.
SAID = ["lifting zucchini crates", "bladder since the zucchini harvest", "Mrs Marrow",
        "suspected cauda equina", "REzucchini", "numb since the zucchini", "zucchini advice reviewed"]


def converse(twilio: Twilio) -> int:
    """A texter with a red flag in their own words, the nurse's relayed text and resolution note, and a
    caller whose speech is heard and whose voicemail is kept. Returns the texter's case id."""
    twilio.sms("hi, my back went into spasm lifting zucchini crates")
    twilio.sms("no")
    assert "emergency" in twilio.sms("I can't control my bladder since the zucchini harvest").text
    assert twilio.sms("MSG 1 Please go to the ER now, Mrs Marrow", frm=NURSE_AVERY).status == 200
    assert twilio.sms("DONE 1 Spoke with her: suspected cauda equina, going to the ER", frm=NURSE_AVERY).status == 200
    call = Call(twilio, frm=CALLER)
    call.start()
    call.say("my legs have been numb since the zucchini harvest")
    call.dial_ends("no-answer")
    call.leave_voicemail(VOICEMAIL)
    # The clinical lead's review note (held-up review list): written as the review page does, through the
    # service's session, so the column's sealing is what is tested (a re-contact to review needs a week).
    factory = twilio.client.application.extensions["triage"].factory
    with factory() as session, session.begin():
        conversation = session.scalar(select(Conversation).order_by(Conversation.id).limit(1))
        assert conversation is not None
        session.add(AdviceReview(conversation_id=conversation.id, patient_id=conversation.patient_id,
                                 later_conversation_id=conversation.id, later_level="ed_now",
                                 later_at=conversation.started_at, reviewed_by="lead",
                                 reviewed_at=conversation.started_at,
                                 note="zucchini advice reviewed: the red flag was in her first text"))
    return 1


def raw_dump(database_url: str) -> str:
    """Everything in the database as the database itself holds it: every row of every table as text (raw
    sqlite3 or psycopg, no column types), and for SQLite also the bytes of the file and its write-ahead log."""
    if database_url.startswith("sqlite"):
        path = Path(database_url.split("///", 1)[1])
        files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
        parts = [p.read_bytes().decode("latin-1") for p in files]
        with sqlite3.connect(path) as connection:
            tables = [t for (t,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                parts += [repr(row) for row in connection.execute(f'SELECT * FROM "{table}"')]
        return "\n".join(parts)
    with psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://")) as connection:
        tables = [t for (t,) in connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
        return "\n".join(row for table in tables for (row,) in connection.execute(f'SELECT t::text FROM "{table}" t'))


def test_with_a_data_key_no_patient_text_is_in_the_database(twilio: Twilio, svc: Services, settings: Settings) -> None:
    converse(twilio)
    with svc.factory() as session:  # read back through the service: everything opens
        bodies = session.scalars(select(Message.body)).all()
        case = session.get(Escalation, 1)
        assert case is not None and case.note and "cauda equina" in case.note
        assert case.quotes == ["cant control my bladder"]  # the words that raised the red flag
    assert any("Mrs Marrow" in b for b in bodies) and VOICEMAIL in "\n".join(bodies)
    raw = raw_dump(settings.database_url)
    leaked = [words for words in SAID if words in raw]
    assert leaked == []
    # The look is real: what is left plain by design (numbers, flow ids, levels) is there to be seen.
    assert PATIENT in raw and CALLER in raw and "back_spasm" in raw and "ed_now" in raw
    assert f"enc:v1:{key_id(parse_key(DATA_KEY))}:" in raw


def test_every_sealed_column_holds_only_sealed_values(twilio: Twilio, svc: Services) -> None:
    converse(twilio)
    current = key_id(parse_key(DATA_KEY))
    with svc.factory() as session:
        for table, column in sealed_columns():
            raws = session.scalars(select(cast(column, Text)).where(column.is_not(None))).all()
            assert raws, f"{table.name}.{column.name}: the conversation wrote none"
            assert all(raw.lstrip('"').startswith(f"enc:v1:{current}:") for raw in raws), f"{table.name}.{column.name}"


def test_without_a_data_key_dev_content_stays_readable(settings: Settings, clock: FakeClock) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("a shared database (Postgres) refuses to start without DATA_KEY")
    with running(replace(settings, data_key=""), clock) as app:
        twilio = Twilio(app.test_client())
        twilio.sms("hi, my back went into spasm lifting zucchini crates")
        twilio.sms("enc:v1:deadbeef:not-a-ciphertext")  # a patient's text that looks sealed reads back as written
        with app.extensions["triage"].factory() as session:
            inbound = session.scalars(select(Message.body).where(Message.direction == "in").order_by(Message.id)).all()
    assert inbound == ["hi, my back went into spasm lifting zucchini crates", "enc:v1:deadbeef:not-a-ciphertext"]
    assert "lifting zucchini crates" in raw_dump(settings.database_url)


def test_a_sealed_value_moved_to_another_column_or_read_without_its_key_does_not_open(
        twilio: Twilio, svc: Services, settings: Settings, clock: FakeClock) -> None:
    converse(twilio)
    with svc.engine.begin() as connection:  # copy a sealed text body, as is, into an audit detail
        body = connection.scalar(select(cast(Message.body, Text)).order_by(Message.id).limit(1))
        connection.execute(text("UPDATE escalation_events SET detail = :raw WHERE id = 1"), {"raw": body})
    with svc.factory() as session, pytest.raises(DataKeyError, match="escalation_events.detail"):
        session.scalars(select(EscalationEvent.detail).where(EscalationEvent.id == 1)).all()
    with running(replace(settings, data_key=new_key()), clock) as other:  # a key that never sealed anything
        with other.extensions["triage"].factory() as session, pytest.raises(DataKeyError, match="neither"):
            session.scalars(select(Message.body)).all()


def test_rotate_key_reseals_everything_and_the_dashboard_reads_every_case(
        twilio: Twilio, svc: Services, settings: Settings, clock: FakeClock) -> None:
    converse(twilio)
    twilio.sms("hello, my back hurts since the squash festival", frm="+12125550155")
    twilio.sms("yes", frm="+12125550155")  # fainting: a third case, call 911
    old_id, new = key_id(parse_key(DATA_KEY)), new_key()
    before = raw_values(svc)
    assert {raw_key(raw) for raw in before.values()} == {old_id}
    with running(replace(settings, data_key=new, data_key_old=DATA_KEY), clock) as rotating:
        assert every_case_reads(rotating)  # new processes read the old key's values before the rotation
        result = rotating.test_cli_runner().invoke(args=["data", "rotate-key"])
        assert result.exit_code == 0, result.output
        assert "0 not under the current key: DATA_KEY_OLD may be removed" in result.output
        status = rotating.test_cli_runner().invoke(args=["data", "status"]).output
    after = raw_values(svc)
    assert after.keys() == before.keys()
    assert all(after[cell] != before[cell] for cell in before)  # every value re-sealed: new ciphertext
    assert {raw_key(raw) for raw in after.values()} == {key_id(parse_key(new))}
    columns = status.splitlines()[1:]  # after the line naming the keys: one line per sealed column
    assert all(line.endswith(" (current)") and f": {key_id(parse_key(new))}: " in line for line in columns), status
    with running(replace(settings, data_key=new), clock) as rotated:  # the old key is gone: all still reads
        assert every_case_reads(rotated)
    with svc.factory() as session, pytest.raises(DataKeyError):  # and the old key alone opens nothing now
        session.scalars(select(Message.body)).all()


def test_rotate_key_seals_what_was_written_before_there_was_a_key(settings: Settings, clock: FakeClock) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("a shared database (Postgres) refuses to start without DATA_KEY")
    with running(replace(settings, data_key=""), clock) as dev:
        Twilio(dev.test_client()).sms("hi, my back went into spasm lifting zucchini crates")
    with running(settings, clock) as keyed:  # DATA_KEY set on a database that already has plain rows
        assert keyed.test_cli_runner().invoke(args=["data", "rotate-key"]).exit_code == 0
        assert {raw_key(raw) for raw in raw_values(keyed.extensions["triage"]).values()} == {
            key_id(parse_key(DATA_KEY))}
        with keyed.extensions["triage"].factory() as session:
            assert "lifting zucchini crates" in session.scalars(select(Message.body)).first()
    assert "lifting zucchini crates" not in raw_dump(settings.database_url)


def test_keys_open_only_their_own_column_and_old_keys_still_open() -> None:
    old, current = new_key(), new_key()
    sealed = Keyring.parse(old).seal("messages.body", "my back")  # type: ignore[union-attr]
    ring = Keyring.parse(current, f" {old} ,")
    assert ring is not None and ring.open("messages.body", sealed) == "my back"
    assert ring.old_ids == [key_id(parse_key(old))]
    with pytest.raises(DataKeyError):
        ring.open("escalations.note", sealed)
    assert Keyring.parse("") is None
    with pytest.raises(ValueError, match="16 bytes"):
        Keyring.parse("A" * 22)


# --- helpers ---------------------------------------------------------------------------------------


@contextmanager
def running(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    app = create_app(settings, clock=clock)
    try:
        yield app
    finally:
        app.extensions["triage"].shutdown()
        app.extensions["triage"].engine.dispose()


def raw_values(svc: Services) -> dict[tuple[str, str, object], str]:
    """Every sealed value as stored, by (table, column, primary key)."""
    found = {}
    with svc.factory() as session:
        for table, column in sealed_columns():
            [key] = table.primary_key.columns
            for pk, raw in session.execute(select(key, cast(column, Text)).where(column.is_not(None))):
                found[(table.name, column.name, pk)] = raw
    return found


def raw_key(raw: str) -> str:
    return raw.lstrip('"').split(":")[2] if raw.lstrip('"').startswith("enc:v1:") else "plain"


def every_case_reads(app: Flask) -> bool:
    """A nurse signs in and each case's page shows the patient's own words and the nurse's."""
    create_user(app, "avery", "nurse", "Nurse Avery")  # or made already, by an earlier app on this database
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    texter = client.get("/dashboard/cases/1").get_data(as_text=True)
    caller = client.get("/dashboard/cases/2").get_data(as_text=True)
    fainted = client.get("/dashboard/cases/3").get_data(as_text=True)
    assert "lifting zucchini crates" in texter and "suspected cauda equina" in texter and "Mrs Marrow" in texter
    assert "numb since the zucchini harvest" in caller and "REzucchini" in caller
    assert "squash festival" in fainted
    return True
