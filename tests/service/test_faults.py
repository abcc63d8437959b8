"""Twilio failing: 500s, 429s and timeouts from the REST API. The patient is answered at once anyway,
and every page and check-in is retried until it goes: nothing is lost."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from service.clock import tick
from service.models import Checkin, Escalation, Message
from service.outbox.outbound import MAX_ATTEMPTS
from service.settings import Settings
from tests.conftest import ALL_CLEAR, NURSE_AVERY, NURSE_BLAKE, PATIENT, Twilio, play


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, twilio_timeout=0.5)  # a Twilio that does not answer is given up on quickly


def to(fake, phone: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in fake.messages if m["to"] == phone]


def rows(svc, kind: str) -> list[Message]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(Message).where(Message.kind == kind).order_by(Message.id)))


def run_clock(svc, clock, seconds: int, step: int = 5) -> None:  # type: ignore[no-untyped-def]
    for _ in range(seconds // step):
        clock.advance(seconds=step)
        tick(svc)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_page_is_retried_through_twilio_errors(twilio: Twilio, twilio_fake, svc, clock, status) -> None:
    twilio_fake.fail_next(3, status=status)
    replies = play(twilio, "hello", "yes")  # fainting: call 911, page the nurse
    assert "911" in replies[-1].text  # the patient is answered while Twilio is failing
    assert to(twilio_fake, NURSE_AVERY) == []
    [page] = rows(svc, "page")
    assert (page.status, page.attempts) == ("retry", 1)
    run_clock(svc, clock, 60)  # backoff 5 s, 15 s, 30 s: well inside the 2-minute ack timeout
    [sent] = to(twilio_fake, NURSE_AVERY)
    assert "URGENT" in sent["body"] and "ACK" in sent["body"]
    [page] = rows(svc, "page")
    assert (page.status, page.attempts, page.twilio_sid) == ("sent", 4, sent["sid"])
    assert len(twilio_fake.rejected) == 3 and twilio_fake.violations == []
    with svc.factory() as session:
        events = [e.event for e in session.scalars(select(Escalation)).one().events]
    assert events.count("page_failed") == 3  # each failed attempt is on the case's record


def test_page_is_retried_when_twilio_times_out(twilio: Twilio, twilio_fake, svc, clock) -> None:
    twilio_fake.delay_next(2, seconds=1.5)  # longer than the client waits
    replies = play(twilio, "hello", "yes")
    assert "911" in replies[-1].text
    [page] = rows(svc, "page")
    assert page.status == "retry" and "network" in (page.last_error or "")
    run_clock(svc, clock, 30)
    [page] = rows(svc, "page")
    assert page.status == "sent" and page.attempts == 3
    # Twilio took the page although its answer came too late (and so did its answer to the next attempt's
    # look in its message list): the third attempt finds it there, and sends no second page.
    [sent] = to(twilio_fake, NURSE_AVERY)
    assert "URGENT" in sent["body"] and page.twilio_sid == sent["sid"]
    assert twilio_fake.violations == []


def test_twilio_down_for_long_the_page_still_reaches_a_nurse(twilio: Twilio, twilio_fake, svc, clock) -> None:
    twilio_fake.fail_next(MAX_ATTEMPTS, status=500)
    play(twilio, "hello", "yes")
    run_clock(svc, clock, 110)  # five attempts so far, all failed: no nurse has the page yet
    assert to(twilio_fake, NURSE_AVERY) == [] and to(twilio_fake, NURSE_BLAKE) == []
    run_clock(svc, clock, 20 * 60, step=10)  # Twilio comes back: the retries and re-pages get through
    pages = to(twilio_fake, NURSE_AVERY) + to(twilio_fake, NURSE_BLAKE)
    assert pages and all("URGENT" in m["body"] for m in pages)
    assert not [m for m in rows(svc, "page") if m.status in ("queued", "retry", "sending")]
    assert len(twilio_fake.rejected) == MAX_ATTEMPTS and twilio_fake.violations == []


def test_checkin_is_retried_through_twilio_errors(twilio: Twilio, twilio_fake, svc, clock) -> None:
    play(twilio, "my back hurts", *ALL_CLEAR)
    before = len(to(twilio_fake, PATIENT))
    twilio_fake.fail_next(2, status=500)
    clock.advance(hours=24, minutes=1)
    tick(svc)
    assert len(to(twilio_fake, PATIENT)) == before
    run_clock(svc, clock, 30)
    assert len(to(twilio_fake, PATIENT)) == before + 1
    [checkin] = rows(svc, "checkin")
    assert (checkin.status, checkin.attempts) == ("sent", 3)


def test_checkin_sent_through_a_twilio_timeout_is_not_lost_and_asked_once(twilio: Twilio, twilio_fake, svc,
                                                                            clock) -> None:
    play(twilio, "my back hurts", *ALL_CLEAR)
    before = len(to(twilio_fake, PATIENT))
    twilio_fake.delay_next(1, seconds=1.5)  # longer than the client waits
    clock.advance(hours=24, minutes=1)
    tick(svc)
    [message] = rows(svc, "checkin")
    assert message.status == "retry" and "network" in (message.last_error or "")
    run_clock(svc, clock, 30)
    [message] = rows(svc, "checkin")  # retried as the same row: one check-in, not a second one
    assert (message.status, message.attempts) == ("sent", 2)
    # Twilio may have sent the one it was slow to confirm (texts are not idempotent): twice beats never.
    twilio_fake.wait_for(lambda: len(to(twilio_fake, PATIENT)) == before + 2, timeout=5)
    first, second = to(twilio_fake, PATIENT)[before:]
    assert first["body"] == second["body"] and "checking in" in first["body"]
    with svc.factory() as session:
        checkins = session.scalars(select(Checkin).order_by(Checkin.id)).all()
    assert [(c.status, c.attempts) for c in checkins] == [("sent", 1), ("pending", 0)]
    assert "better" in twilio.sms("better").text.lower()  # the answer is taken once, whichever text it answers
    assert [c.status for c in rows_of(svc, Checkin)] == ["answered", "cancelled"]


def test_checkin_failing_every_attempt_is_asked_again_later(twilio: Twilio, twilio_fake, svc, clock) -> None:
    play(twilio, "my back hurts", *ALL_CLEAR)
    before = len(to(twilio_fake, PATIENT))
    twilio_fake.fail_next(MAX_ATTEMPTS, status=500)
    clock.advance(hours=24, minutes=1)
    run_clock(svc, clock, 20 * 60, step=10)  # every attempt fails; the outbox gives up on the text...
    [message] = rows(svc, "checkin")
    assert (message.status, message.attempts) == ("failed", MAX_ATTEMPTS)
    assert len(to(twilio_fake, PATIENT)) == before
    first = rows_of(svc, Checkin)[0]
    assert first.status == "pending"  # ...but not on the check-in: it is due again
    run_clock(svc, clock, 60 * 60, step=60)  # Twilio is back
    assert len(to(twilio_fake, PATIENT)) == before + 1
    assert "checking in" in to(twilio_fake, PATIENT)[-1]["body"]
    assert [m.status for m in rows(svc, "checkin")] == ["failed", "sent"]
    assert (rows_of(svc, Checkin)[0].status, rows_of(svc, Checkin)[0].attempts) == ("sent", 2)
    assert twilio_fake.violations == []


def rows_of(svc, model):  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(model).order_by(model.id)))
