"""The outage spool: Twilio's fallback URLs answer without the database and keep each request on disk; the
webhooks' own database-down answers keep theirs too; `flask spool replay` and the clock feed them back
through the normal path once the database answers, exactly once.

The outage is real (tests/process/test_faults_process.py, database_down): on SQLite another process holds the
write lock longer than the app will wait; on Postgres every connection slot is gone."""

from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event, func, select

from service.channels.sms import fallback_text
from service.clock import tick
from service.escalation import nurse_sms
from service.models import Conversation, Escalation, Message, Patient
from service.services import Services
from service.spool import replay
from service.spool.store import INBOUND, LEDGER, Spool
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, PATIENT, FakeClock, Twilio, parse_twiml, play
from tests.process.test_faults_process import database_down, settings  # noqa: F401  (the outage, and its app's settings)
from tests.twilio_fake import TwilioFake

OTHER = "+12125550177"
CALLER = "+12125550188"
RED_FLAG_SID = "SM" + "d" * 32
LATE = "Sorry for the delay: we had a problem receiving your message."


@contextmanager
def statements(svc: Services) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(svc.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(svc.engine, "before_cursor_execute", count)


def fallback(twilio: Twilio, path: str, params: dict[str, str]) -> Any:
    return twilio.signed_post(path, {"AccountSid": "AC" + "0" * 32, "To": CLINIC_NUMBER, "ErrorCode": "11200",
                                     "ErrorUrl": "https://triage.example.org" + path.replace("/fallback", ""),
                                     **params})


def fallback_sms(twilio: Twilio, body: str, frm: str = PATIENT, sid: str = "SM" + "a" * 32) -> Any:
    return parse_twiml(fallback(twilio, "/twilio/fallback/sms", {"From": frm, "Body": body, "MessageSid": sid}))


def call(twilio: Twilio, path: str, frm: str, sid: str) -> ET.Element:
    response = fallback(twilio, path, {"CallSid": sid, "From": frm, "CallStatus": "ringing", "Direction": "inbound",
                                       "ApiVersion": "2010-04-01"})
    assert response.status_code == 200
    return ET.fromstring(response.get_data(as_text=True))


def spool(svc: Services) -> Spool:
    return Spool(svc.settings.spool_dir)


def replay_cli(app: Flask) -> Any:
    return app.test_cli_runner().invoke(args=["spool", "replay"])


def count(svc: Services, model: Any, *where: Any) -> int:
    with svc.factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def texts_to(fake: TwilioFake, phone: str) -> list[str]:
    return [m["body"] for m in fake.messages if m["to"] == phone]


# --- the fallback URLs ---------------------------------------------------------------------------------


def test_the_sms_fallback_answers_from_memory_and_keeps_the_request(svc: Services, twilio: Twilio) -> None:
    with statements(svc) as sent:
        reply = fallback_sms(twilio, "my legs went numb")
    assert sent == []  # not one statement: this URL is for when the database is the problem
    assert reply.status == 200 and reply.texts == [fallback_text(svc)]
    assert "911" in reply.text and "Por favor llame" in reply.text  # every language the flow has

    [entry] = spool(svc).entries()
    assert (entry.kind, entry.route, entry.answered) == ("sms", "/twilio/fallback/sms", "trouble")
    assert entry.form["Body"] == "my legs went numb" and entry.form["MessageSid"] == "SM" + "a" * 32
    directory, inbound = Path(svc.settings.spool_dir), Path(svc.settings.spool_dir) / INBOUND
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700 and stat.S_IMODE(inbound.stat().st_mode) == 0o600

    # Still Twilio's signature: anyone else gets 403 and is kept nowhere.
    forged = twilio.signed_post("/twilio/fallback/sms", {"From": PATIENT, "Body": "hi"}, signature="bad")
    assert forged.status_code == 403 and len(spool(svc).entries()) == 1

    assert fallback_sms(twilio, "ACK 1", frm=NURSE_AVERY, sid="SM" + "b" * 32).texts == [nurse_sms.FAILED]
    stop = fallback_sms(twilio, "STOP", frm=OTHER, sid="SM" + "c" * 32)
    assert "you are unsubscribed" in stop.text and "no recibirá más mensajes" in stop.text  # in both languages
    assert [e.answered for e in spool(svc).entries()] == ["trouble", "staff", "stop"]


def test_the_voice_fallback_names_911_and_the_clinic_in_every_language(svc: Services, twilio: Twilio) -> None:
    with statements(svc) as sent:
        answer = call(twilio, "/twilio/fallback/voice", CALLER, "CA" + "1" * 32)
    assert sent == []
    says = [(say.get("language"), say.text or "") for say in answer.iter("Say")]
    assert [language for language, _ in says] == ["en-US", "es-US", "en-US", "es-US"]  # before and after the dial
    assert all("911" in text and CLINIC_NUMBER in text for _, text in says)
    assert [dial.text for dial in answer.iter("Dial")] == [NURSE_AVERY]  # the roster is in memory
    [entry] = spool(svc).entries()
    assert (entry.kind, entry.form["CallSid"]) == ("voice", "CA" + "1" * 32)


# --- a red flag in an outage: spooled, replayed, paged once ------------------------------------------------


def test_a_red_flag_texted_while_the_database_is_down_is_spooled_replayed_and_paged_once(
        app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake, clock: FakeClock) -> None:
    play(twilio, "hello", "no")  # at the bladder question
    clock.advance(minutes=1)
    with database_down(svc):
        reply = twilio.sms("yes", sid=RED_FLAG_SID)  # the webhook fails: the safe answer, and kept
        assert reply.status == 200 and reply.texts == [fallback_text(svc)]
        # Twilio's fallback URL, for another patient whose webhook timed out
        assert fallback_sms(twilio, "I can't feel my legs", frm=OTHER, sid="SM" + "e" * 32).status == 200
        assert replay.tick(svc) == 0  # the clock tries, and waits: nothing is lost or marked done
        waiting = replay_cli(app)
        assert waiting.exit_code == 1 and "waiting 2" in waiting.output
    assert len(spool(svc).pending()) == 2
    assert count(svc, Escalation) == 0 and twilio_fake.messages == []

    clock.advance(minutes=5)
    done = replay_cli(app)
    assert done.exit_code == 0 and "replayed 2, skipped 0, failed 0, waiting 0" in done.output
    pages = texts_to(twilio_fake, NURSE_AVERY)
    assert len(pages) == 2 and all(p.startswith("URGENT case") for p in pages)
    for phone in (PATIENT, OTHER):  # the answers never sent at the time, now as texts through the outbox
        said = "\n".join(texts_to(twilio_fake, phone))
        assert said.startswith(LATE) and "emergency department now" in said and "alerted the on-call nurse" in said
    with svc.factory() as session:
        late = session.scalars(select(Message).where(Message.twilio_sid == RED_FLAG_SID)).one()
        assert (late.direction, late.kind, late.body) == ("in", "late", "yes")
        assert session.scalars(select(Escalation.level)).all() == ["ed_now", "ed_now"]

    sent = len(twilio_fake.messages)
    again = replay_cli(app)
    assert "replayed 0" in again.output and len(twilio_fake.messages) == sent
    # Even with the record of what was replayed lost, the receipts (MessageSid) take nothing twice.
    (Path(svc.settings.spool_dir) / LEDGER).unlink()
    replay_cli(app)
    assert len(twilio_fake.messages) == sent and count(svc, Escalation) == 2
    assert count(svc, Message, Message.twilio_sid == RED_FLAG_SID) == 1
    assert twilio_fake.violations == []


def test_the_clock_replays_the_spool_by_itself_once_the_database_answers(
        svc: Services, twilio: Twilio, twilio_fake: TwilioFake, clock: FakeClock) -> None:
    play(twilio, "hello", "no")
    clock.advance(minutes=1)
    with database_down(svc):
        twilio.sms("yes", sid=RED_FLAG_SID)
    clock.advance(seconds=30)
    assert tick(svc)["spool"] == 1  # every job, as the clock process runs them
    assert len(texts_to(twilio_fake, NURSE_AVERY)) == 1
    assert tick(svc)["spool"] == 0 and spool(svc).pending() == []
    assert len(texts_to(twilio_fake, NURSE_AVERY)) == 1


def test_a_call_in_an_outage_becomes_a_missed_call_for_a_nurse_callback(
        app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake) -> None:
    with database_down(svc):
        live = call(twilio, "/twilio/voice", CALLER, "CA" + "2" * 32)  # the webhook fails: kept, as the fallback
        assert any("911" in (say.text or "") for say in live.iter("Say"))
    call(twilio, "/twilio/fallback/voice", OTHER, "CA" + "3" * 32)
    assert [e.route for e in spool(svc).entries()] == ["/twilio/voice", "/twilio/fallback/voice"]

    assert "replayed 2" in replay_cli(app).output
    with svc.factory() as session:
        cases = session.execute(select(Escalation.level, Escalation.reason, Patient.phone)
                                .join(Patient, Patient.id == Escalation.patient_id).order_by(Escalation.id)).all()
        channels = session.scalars(select(Conversation.channel)).all()
    assert [(c.level, c.phone) for c in cases] == [("seen_today", CALLER), ("seen_today", OTHER)]
    assert all("line was down" in c.reason for c in cases) and channels == ["voice", "voice"]
    assert {m["to"] for m in twilio_fake.messages} == {NURSE_AVERY}  # pages; no text the callers did not ask for

    (Path(svc.settings.spool_dir) / LEDGER).unlink()
    replay_cli(app)  # the CallSid's receipt: still one case each
    assert count(svc, Escalation) == 2 and len(twilio_fake.messages) == 2


def test_a_spooled_answer_the_patient_has_moved_past_answers_nothing(
        app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake, clock: FakeClock) -> None:
    play(twilio, "hello", "no")  # at the bladder question
    clock.advance(minutes=1)
    with database_down(svc):
        twilio.sms("no", sid="SM" + "f" * 32)  # meant for the bladder question
    clock.advance(minutes=1)
    assert "numbness" in twilio.sms("no").text  # the patient answers again live: now at the saddle question
    with svc.factory() as session:
        before = session.scalars(select(Conversation)).one().state
    clock.advance(minutes=1)
    assert "replayed 1" in replay_cli(app).output
    with svc.factory() as session:
        after = session.scalars(select(Conversation)).one().state
    assert after["node"] == "q_saddle" and after["answers"] == before["answers"]  # never the saddle question's no
    assert texts_to(twilio_fake, PATIENT) == []  # nothing to say: the conversation went on without it


def test_a_late_red_flag_still_escalates(app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake,
                                         clock: FakeClock) -> None:
    play(twilio, "hello", "no")
    clock.advance(minutes=1)
    with database_down(svc):
        twilio.sms("I can't feel my legs", sid="SM" + "9" * 32)
    clock.advance(minutes=1)
    twilio.sms("no")  # moved on meanwhile
    clock.advance(minutes=1)
    replay_cli(app)
    assert count(svc, Escalation, Escalation.level == "ed_now") == 1
    assert "emergency department now" in "\n".join(texts_to(twilio_fake, PATIENT))


def test_a_stop_in_an_outage_is_confirmed_then_and_recorded_on_replay(
        app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake) -> None:
    play(twilio, "hello")
    assert "you are unsubscribed" in fallback_sms(twilio, "STOP").text  # confirmed at once, as carriers require
    replay_cli(app)
    with svc.factory() as session:
        assert session.scalars(select(Patient.opted_out_at).where(Patient.phone == PATIENT)).one() is not None
    # Not confirmed a second time: no text even queued (the outbox would only have suppressed it).
    assert count(svc, Message, Message.direction == "out", Message.status != "twiml") == 0
    assert twilio_fake.messages == []


def test_a_nurses_text_is_not_replayed_as_a_command(app: Flask, svc: Services, twilio: Twilio,
                                                    twilio_fake: TwilioFake) -> None:
    play(twilio, "hello", "no", "yes")
    fallback_sms(twilio, "DONE 1 called her", frm=NURSE_AVERY)  # they were told it did not go through
    assert "skipped 1" in replay_cli(app).output
    with svc.factory() as session:
        assert session.scalars(select(Escalation.status)).one() != "resolved"


def test_spool_list_shows_what_waits_without_numbers_or_words(app: Flask, svc: Services, twilio: Twilio) -> None:
    fallback_sms(twilio, "my legs went numb")
    listed = app.test_cli_runner().invoke(args=["spool", "list"])
    assert listed.exit_code == 0 and "waiting: 1" in listed.output and "SM" + "a" * 32 in listed.output
    assert PATIENT not in listed.output and "+1******0123" in listed.output and "numb" not in listed.output


def test_a_line_torn_by_a_crash_loses_neither_it_nor_the_next(tmp_path: Path, clock: FakeClock) -> None:
    store = Spool(tmp_path / "spool")
    store.keep(kind="sms", route="/twilio/sms", form={"Body": "first"}, answered="trouble", now=clock.now)
    with (tmp_path / "spool" / INBOUND).open("ab") as handle:  # a writer killed half way through its line
        handle.write(b'{"id": "torn", "kind": "sms", "form": {"Bo')
    assert [e.form["Body"] for e in store.entries()] == ["first"]  # the torn line is not taken for an entry
    store.keep(kind="sms", route="/twilio/sms", form={"Body": "second"}, answered="trouble", now=clock.now)
    assert [e.form["Body"] for e in store.entries()] == ["first", "second"]
    lines = (tmp_path / "spool" / INBOUND).read_bytes().split(b"\n")
    assert len(lines) == 4 and json.loads(lines[2])["form"] == {"Body": "second"}  # on a line of its own
