"""Logs: one event per line, tied to the webhook that caused it, with no numbers, answers or texts."""

from __future__ import annotations

import io
import logging
import re

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.clock import tick
from service.logs import LineFormatter, redact, request_id_from
from service.models import Message, Patient
from tests.conftest import NURSE_AVERY, PATIENT, Twilio, play

# The patient's own words, each with a word no flow text or log event contains.
WORDS = ["hello, my back seized up moving the quokka tank", "no", "no",
         "I can't control my bladder since the quokka thing", "my wife is driving me, zanzibar"]
SECRETS = ["quokka", "zanzibar", "bladder"]


def number_forms(phone: str) -> list[str]:
    """+12125550123 as it could appear: E.164, national digits, and as people write it."""
    national = phone[2:]
    return [phone, national, f"{national[:3]}-{national[3:6]}-{national[6:]}",
            f"({national[:3]}) {national[3:6]}-{national[6:]}", f"{national[3:6]}-{national[6:]}"]


@pytest.fixture
def formatted() -> io.StringIO:
    """What the service's own handler would write, captured from the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(LineFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def test_a_red_flag_conversation_logs_no_number_and_no_words(twilio: Twilio, twilio_fake, svc, clock, caplog,
                                                              formatted) -> None:
    caplog.set_level(logging.DEBUG)
    play(twilio, *WORDS)
    to_nurse = " ".join(m["body"] for m in twilio_fake.messages if m["to"] == NURSE_AVERY)
    assert "zanzibar" in to_nurse  # the nurse gets the words; the logs must not
    case_id = re.search(r"case (\d+)", to_nurse).group(1)
    play(twilio, f"ACK {case_id}", frm=NURSE_AVERY)
    play(twilio, "STOP")
    clock.advance(hours=30)
    tick(svc)

    records = [r for r in caplog.records if not r.name.startswith(("tests", "openapi_core", "jsonschema"))]
    assert any(r.name.startswith("service") for r in records)  # something was logged: the test can fail
    raw = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    for secret in SECRETS + number_forms(PATIENT) + number_forms(NURSE_AVERY):
        assert secret not in raw, secret
        assert secret not in formatted.getvalue(), secret
    assert not svc.engine.echo
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
    for line in formatted.getvalue().splitlines():
        assert re.match(r"ts=\S+ level=\w+ logger=\S+ request_id=\S+ event=", line), line


def test_every_line_and_row_of_a_webhook_carries_its_request_id(twilio: Twilio, twilio_fake, svc, caplog) -> None:
    caplog.set_level(logging.INFO)
    play(twilio, "hi")
    caplog.clear()
    sid = "SM" + "ab" * 16
    response = twilio.client.post("/twilio/sms", data=(params := {
        "From": PATIENT, "To": "+12125550100", "Body": "yes", "MessageSid": sid}), headers={
        "X-Twilio-Signature": twilio.validator.compute_signature(twilio.base + "/twilio/sms", params),
        "I-Twilio-Idempotency-Token": "idem-123"})
    assert response.status_code == 200 and response.headers["X-Request-Id"] == "idem-123"
    service_records = [r for r in caplog.records if r.name.startswith("service")]
    assert any("outbound.sent" in r.getMessage() for r in service_records)  # the page, sent inline
    assert {r.request_id for r in service_records} == {"idem-123"}
    with svc.factory() as session:
        page = session.scalars(select(Message).where(Message.kind == "page")).one()
        inbound = session.scalars(select(Message).where(Message.twilio_sid == sid)).one()
        assert page.request_id == inbound.request_id == "idem-123"


def test_the_outbox_logs_a_retry_under_the_id_of_the_webhook_that_queued_it(twilio: Twilio, twilio_fake, svc,
                                                                             clock, caplog) -> None:
    caplog.set_level(logging.INFO)
    twilio_fake.fail_next(1, status=500)
    play(twilio, "hi")
    sid = "SM" + "cd" * 16
    twilio.sms("yes", sid=sid)  # no idempotency header: the MessageSid is the id
    caplog.clear()
    clock.advance(minutes=1)
    tick(svc)
    [sent] = [r for r in caplog.records if "outbound.sent" in r.getMessage()]
    assert sent.request_id == sid


def test_request_ids_from_outside_are_used_only_when_safe() -> None:
    assert request_id_from({"I-Twilio-Idempotency-Token": "abc-123"}, {"MessageSid": "SM1"}) == "abc-123"
    assert request_id_from({}, {"MessageSid": "SM1", "CallSid": "CA1"}) == "SM1"
    assert request_id_from({}, {"CallSid": "CA1"}) == "CA1"
    forged = request_id_from({"I-Twilio-Idempotency-Token": "x\nlevel=CRITICAL"}, {"MessageSid": "a b"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged)
    assert len(request_id_from({"X-Request-Id": "r" * 500}, {})) == 32


def test_lines_are_scrubbed_of_numbers_and_folded_onto_one_line() -> None:
    assert redact("Twilio 400: The 'To' number +12125550123 is not valid") == \
        "Twilio 400: The 'To' number [number] is not valid"
    for text in ("call 212-555-0123", "call (212) 555-0123", "call 2125550123", "call +1 212-555-0123"):
        assert "0123" not in redact(text), text
    for kept in ("case=12 message_id=345", "ts=2026-03-02T15:00:00.000Z", "+1******0123",
                 "sid=SM0123456789abcdef0123456789abcdef", "late_s=86460"):
        assert redact(kept) == kept
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        record = logging.LogRecord("service.x", logging.ERROR, __file__, 1, "boom id=%s", (1,), True)
        import sys

        record.exc_info = sys.exc_info()
    line = LineFormatter().format(record)
    assert "\n" not in line and "event=boom id=1" in line and "ValueError: first" in line


def test_a_database_error_logs_no_values(svc, formatted) -> None:
    """Postgres puts the duplicate key's value in its error text; neither SQL parameters nor that reach a log."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with svc.factory() as session:
        session.add(Patient(phone=PATIENT, created_at=now))
        session.commit()
        session.add(Patient(phone=PATIENT, created_at=now))
        with pytest.raises(IntegrityError) as caught:
            session.commit()
    logging.getLogger("service.test").error("db.failed", exc_info=caught.value)
    assert "db.failed" in formatted.getvalue()
    for form in number_forms(PATIENT):
        assert form not in formatted.getvalue()
    assert PATIENT not in str(caught.value).split("DETAIL")[0]  # hide_parameters: no [parameters: ...]
