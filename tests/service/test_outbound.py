"""The one outbound path, through the real twilio client against the local fake (which checks every
request against Twilio's OpenAPI description): what a page looks like on the wire, retries with
backoff, timeouts, permanent errors and their hooks, and the console transport for development.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import create_app
from service.db import transaction
from service.models import Message, Patient
from service.outbox.outbound import BACKOFF, LEASE, SendError, queue_call, queue_sms
from service.services import Services
from service.settings import Settings
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, PATIENT, FakeClock, Twilio, play, services

PUBLIC = "https://triage.example.org"


@pytest.fixture
def make_app(settings: Settings, clock: FakeClock) -> Iterator:  # type: ignore[type-arg]
    """An app with changed settings (same database, same fake clock), shut down after the test."""
    made: list[Flask] = []

    def make(**changes: object) -> Flask:
        app = create_app(replace(settings, **changes), clock=clock)
        made.append(app)
        return app

    yield make
    for app in made:
        services(app).shutdown()
        services(app).engine.dispose()


def rows(svc: Services, kind: str) -> list[Message]:
    with svc.factory() as session:
        return list(session.scalars(select(Message).where(Message.kind == kind).order_by(Message.id)))


def queue_relay(svc: Services, clock: FakeClock, body: str = "Nurse: please call the clinic.") -> int:
    """A text to the patient through the outbox, as a nurse's relay would queue it."""
    with transaction(svc.factory) as session:
        patient = session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()
        message = queue_sms(session, to=PATIENT, body=body, kind="relay", now=clock(), patient_id=patient.id)
        return message.id


def message(svc: Services, message_id: int) -> Message:
    with svc.factory() as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found


def test_a_page_on_the_wire(twilio: Twilio, twilio_fake, svc) -> None:
    play(twilio, "I passed out this morning")
    [sent] = twilio_fake.messages
    assert sent["to"] == NURSE_AVERY and sent["from_"] == CLINIC_NUMBER
    assert "URGENT" in sent["body"] and "ACK" in sent["body"]
    assert sent["status_callback"] is None  # no public URL configured: Twilio would have nowhere to call
    assert sent["form"]["To"] == NURSE_AVERY and sent["form"]["From"] == CLINIC_NUMBER
    assert twilio_fake.violations == [] and twilio_fake.rejected == []
    [page] = rows(svc, "page")
    assert (page.status, page.twilio_sid, page.attempts) == ("sent", sent["sid"], 1)


def test_status_callback_is_sent_when_public_base_url_is_set(make_app, twilio_fake) -> None:
    app = make_app(public_base_url=PUBLIC)
    play(Twilio(app.test_client(), base=PUBLIC), "I can't feel my legs")
    [sent] = twilio_fake.messages
    assert sent["status_callback"] == f"{PUBLIC}/twilio/status"
    assert sent["from_"] == CLINIC_NUMBER
    assert twilio_fake.violations == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_error_then_success_is_retried_after_the_backoff(twilio: Twilio, twilio_fake, svc,
                                                               clock: FakeClock, status: int) -> None:
    twilio_fake.fail_next(1, status=status)
    play(twilio, "I lost control of my bladder")
    [page] = rows(svc, "page")
    assert page.status == "retry" and page.attempts == 1 and str(status) in (page.last_error or "")
    assert page.next_attempt_at == clock() + timedelta(seconds=BACKOFF[0])
    assert twilio_fake.messages == []
    clock.advance(seconds=BACKOFF[0] - 1)
    assert svc.outbox.deliver() == 0  # not due yet
    assert twilio_fake.messages == []
    clock.advance(seconds=1)
    assert svc.outbox.deliver() == 1
    [sent] = twilio_fake.messages
    [page] = rows(svc, "page")
    assert (page.status, page.attempts, page.twilio_sid) == ("sent", 2, sent["sid"])
    assert sent["to"] == NURSE_AVERY and twilio_fake.violations == []


def test_backoff_grows_between_attempts(twilio: Twilio, twilio_fake, svc, clock: FakeClock) -> None:
    play(twilio, "hi")
    message_id = queue_relay(svc, clock)
    twilio_fake.fail_next(2, status=500)
    start = clock()
    svc.outbox.deliver()
    assert message(svc, message_id).next_attempt_at == start + timedelta(seconds=BACKOFF[0])
    clock.advance(seconds=BACKOFF[0])
    svc.outbox.deliver()
    second = message(svc, message_id)
    assert (second.status, second.attempts) == ("retry", 2)
    assert second.next_attempt_at == clock() + timedelta(seconds=BACKOFF[1])
    clock.advance(seconds=BACKOFF[1])
    assert svc.outbox.deliver() == 1
    assert message(svc, message_id).status == "sent" and len(twilio_fake.messages) == 1


def test_timeout_is_retried(make_app, twilio_fake, clock: FakeClock) -> None:
    app = make_app(twilio_timeout=0.5)
    svc = services(app)
    play(Twilio(app.test_client()), "hi")
    message_id = queue_relay(svc, clock)
    twilio_fake.delay_next(1, seconds=1.5)  # longer than the client waits
    assert svc.outbox.deliver() == 0
    first = message(svc, message_id)
    assert first.status == "retry" and "network" in (first.last_error or "") and first.attempts == 1
    # Twilio sent it although we gave up waiting: the retry finds it in Twilio's list, and sends nothing.
    twilio_fake.wait_for(1)
    clock.advance(seconds=BACKOFF[0])
    assert svc.outbox.deliver() == 1
    done = message(svc, message_id)
    [sent] = twilio_fake.messages
    assert (done.status, done.attempts, done.twilio_sid) == ("sent", 2, sent["sid"])
    assert sent["body"] == "Nurse: please call the clinic."
    assert [lookup["operation"] for lookup in twilio_fake.lists] == ["ListMessage"]
    assert twilio_fake.violations == []


def test_permanent_error_fails_at_once_and_is_not_retried(twilio: Twilio, twilio_fake, svc,
                                                          clock: FakeClock) -> None:
    play(twilio, "hi")
    message_id = queue_relay(svc, clock)
    twilio_fake.error_next(1, code=21211, status=400)
    assert svc.outbox.deliver() == 0
    failed = message(svc, message_id)
    assert failed.status == "failed" and failed.next_attempt_at is None and failed.attempts == 1
    assert "21211" in (failed.last_error or "")
    for _ in range(3):
        clock.advance(hours=1)
        svc.outbox.deliver()
    assert message(svc, message_id).status == "failed"
    assert len(twilio_fake.rejected) == 1 and twilio_fake.messages == []
    assert twilio_fake.violations == []


def test_carrier_opt_out_fails_and_runs_the_failure_hooks(twilio: Twilio, twilio_fake, svc,
                                                          clock: FakeClock) -> None:
    play(twilio, "hi")
    seen: list[tuple[int, int | None, str]] = []

    def record(session: Session, failed: Message, error: SendError, now: datetime) -> None:
        seen.append((failed.id, error.code, failed.status))

    svc.outbox.failure_hooks.append(record)  # after the app's own hooks: proves the whole list runs
    message_id = queue_relay(svc, clock)
    twilio_fake.error_next(1, code=21610, status=400)
    svc.outbox.deliver()
    failed = message(svc, message_id)
    assert failed.status == "failed" and "21610" in (failed.last_error or "")
    assert seen == [(message_id, 21610, "failed")]
    with svc.factory() as session:
        patient = session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()
    assert patient.opted_out_at == clock()  # the installed hook honoured the carrier's STOP
    assert twilio.sms("hello?").texts == []  # and so does the SMS channel
    assert twilio_fake.violations == []


def test_console_transport_prints_and_stores(make_app, capsys) -> None:  # type: ignore[no-untyped-def]
    app = make_app(transport="console")
    svc = services(app)
    play(Twilio(app.test_client()), "I have a fever and chills")
    [page] = rows(svc, "page")
    assert page.status == "sent" and (page.twilio_sid or "").startswith("CONSOLE")
    printed = capsys.readouterr().out
    assert f"--- SMS {page.twilio_sid} to {NURSE_AVERY}" in printed
    assert page.body in printed


# --- a send whose outcome is unknown is reconciled before it is repeated (#22 item 5) ---------------------


def crashed_mid_send(svc: Services, message_id: int, reached_twilio: bool) -> str | None:
    """What a process that died mid-send leaves: the row claimed (`sending`, its lease running), and, if
    the request got there, the message at Twilio; no result recorded. Returns the SID Twilio gave it."""
    attempt = svc.outbox._claim(message_id, svc.factory)
    assert attempt is not None and message(svc, message_id).status == "sending"
    return svc.outbox.transport.send_sms(attempt.to, attempt.body) if reached_twilio else None


def test_a_send_twilio_accepted_before_the_crash_is_not_sent_again(twilio: Twilio, twilio_fake, svc: Services,
                                                                    clock: FakeClock) -> None:
    play(twilio, "hi")
    message_id = queue_relay(svc, clock)
    sid = crashed_mid_send(svc, message_id, reached_twilio=True)
    assert svc.outbox.deliver() == 0  # its lease has not run out: the dead process still owns it
    clock.advance(LEASE)
    assert svc.outbox.deliver() == 1
    done = message(svc, message_id)
    assert (done.status, done.twilio_sid, done.attempts) == ("sent", sid, 2)
    assert [m["sid"] for m in twilio_fake.messages] == [sid]  # no second POST
    [lookup] = twilio_fake.lists
    assert (lookup["operation"], lookup["query"]["To"], lookup["query"]["From"]) == ("ListMessage", PATIENT,
                                                                                      CLINIC_NUMBER)
    assert twilio_fake.violations == []


def test_a_send_that_never_reached_twilio_is_sent_once(twilio: Twilio, twilio_fake, svc: Services,
                                                        clock: FakeClock) -> None:
    play(twilio, "hi")
    message_id = queue_relay(svc, clock)
    crashed_mid_send(svc, message_id, reached_twilio=False)
    clock.advance(LEASE)
    assert svc.outbox.deliver() == 1
    [sent] = twilio_fake.messages
    done = message(svc, message_id)
    assert (done.status, done.twilio_sid) == ("sent", sent["sid"])
    assert len(twilio_fake.lists) == 1 and twilio_fake.violations == []


def test_the_same_text_sent_for_another_row_is_not_taken_for_this_one(twilio: Twilio, twilio_fake, svc: Services,
                                                                       clock: FakeClock) -> None:
    play(twilio, "hi")
    earlier = queue_relay(svc, clock, body="Please call the clinic.")
    assert svc.outbox.deliver() == 1
    again = queue_relay(svc, clock, body="Please call the clinic.")  # the same words, a new text
    crashed_mid_send(svc, again, reached_twilio=False)
    clock.advance(LEASE)
    assert svc.outbox.deliver() == 1
    first, second = twilio_fake.messages
    assert (message(svc, earlier).twilio_sid, message(svc, again).twilio_sid) == (first["sid"], second["sid"])


def test_an_alert_call_placed_before_the_crash_is_not_placed_again(twilio: Twilio, twilio_fake, svc: Services,
                                                                    clock: FakeClock) -> None:
    play(twilio, "hi")
    with transaction(svc.factory) as session:
        call_id = queue_call(session, to=NURSE_AVERY, say="No nurse has acknowledged case 1.", kind="fallback_call",
                             now=clock()).id
    attempt = svc.outbox._claim(call_id, svc.factory)
    assert attempt is not None
    sid = svc.outbox.transport.place_call(attempt.to, attempt.body)
    clock.advance(LEASE)
    assert svc.outbox.deliver() == 1
    assert [c["sid"] for c in twilio_fake.calls] == [sid]
    assert message(svc, call_id).twilio_sid == sid
    assert [lookup["operation"] for lookup in twilio_fake.lists] == ["ListCall"]
    assert twilio_fake.violations == []


def test_when_twilio_cannot_say_what_it_has_the_text_waits(twilio: Twilio, twilio_fake, svc: Services,
                                                            clock: FakeClock) -> None:
    play(twilio, "hi")
    message_id = queue_relay(svc, clock)
    crashed_mid_send(svc, message_id, reached_twilio=False)
    clock.advance(LEASE)
    twilio_fake.fail_next(1, status=503, operation="ListMessage")
    assert svc.outbox.deliver() == 0
    assert message(svc, message_id).status == "retry" and twilio_fake.messages == []
    clock.advance(seconds=BACKOFF[1])
    assert svc.outbox.deliver() == 1 and len(twilio_fake.messages) == 1


def test_the_console_transport_reconciles_from_what_it_printed(make_app, clock: FakeClock, capsys) -> None:  # type: ignore[no-untyped-def]
    svc = services(make_app(transport="console"))
    with transaction(svc.factory) as session:
        message_id = queue_sms(session, to=NURSE_AVERY, body="URGENT case 3", kind="page", now=clock()).id
    sid = crashed_mid_send(svc, message_id, reached_twilio=True)
    assert svc.outbox.transport.sent_since("sms", NURSE_AVERY, "URGENT case 3", clock()) == [sid]
    assert svc.outbox.transport.sent_since("sms", NURSE_AVERY, "another text", clock()) == []
    clock.advance(LEASE)
    assert svc.outbox.deliver() == 1
    assert message(svc, message_id).twilio_sid == sid
    assert capsys.readouterr().out.count("URGENT case 3") == 1


# --- pages on a connection of their own (#22 item 3) -----------------------------------------------------


def test_a_page_is_sent_while_the_webhooks_connection_is_taken(twilio_fake, svc: Services, clock: FakeClock) -> None:
    # On SQLite a process has one pooled connection, which webhooks queue for; the page lane has its own,
    # so a page is claimed and recorded while a webhook holds that one (on Postgres both are the one pool).
    with transaction(svc.factory) as session:
        page_id = queue_sms(session, to=NURSE_AVERY, body="URGENT case 7", kind="page", now=clock()).id
    done: list[int] = []
    with svc.engine.connect():  # the pool's connection, held as a webhook holds it (no write under way)
        sender = threading.Thread(target=lambda: done.append(svc.outbox.deliver([page_id], page_lane=True)))
        sender.start()
        sender.join(10)  # behind the held connection it would wait the pool's 15 s and fail
        assert done == [1]
    assert message(svc, page_id).status == "sent"
    assert [m["body"] for m in twilio_fake.messages] == ["URGENT case 7"]
