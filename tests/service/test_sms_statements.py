"""How much database work one text costs: counted, not timed (bench/load.py has the timings).

A text that only moves the conversation on is six statements and the commit; the count creeping up
is how a webhook gets slow without any test failing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from service.services import Services
from tests.conftest import Twilio

ANSWERING = [("SELECT", "lock the patient"), ("SELECT", "conversation, receipt, open case, check-in out"),
             ("INSERT", "the inbound text"), ("UPDATE", "the conversation"), ("INSERT", "the reply"),
             ("INSERT", "the receipt")]


@contextmanager
def statements(svc: Services) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.split(None, 1)[0].upper() not in ("BEGIN", "COMMIT", "SET", "SHOW"):
            seen.append(statement)

    event.listen(svc.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(svc.engine, "before_cursor_execute", record)


def test_an_answer_is_six_statements(twilio: Twilio, svc: Services) -> None:
    twilio.sms("hi, my back is in spasm")
    with statements(svc) as seen:
        reply = twilio.sms("no")
    assert reply.status == 200 and reply.texts  # the next question
    assert [s.split(None, 1)[0].upper() for s in seen] == [verb for verb, _ in ANSWERING], "\n".join(seen)


def test_a_repeated_webhook_is_answered_from_its_receipt_in_two(twilio: Twilio, svc: Services) -> None:
    twilio.sms("hi, my back is in spasm")
    first = twilio.sms("no", sid="SM" + "ab" * 16)
    with statements(svc) as seen:
        again = twilio.sms("no", sid="SM" + "ab" * 16)
    assert again.text == first.text
    assert [s.split(None, 1)[0].upper() for s in seen] == ["SELECT", "SELECT"], "\n".join(seen)
