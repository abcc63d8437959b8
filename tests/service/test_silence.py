"""No dead ends: silence in the red-flag screen gets one reminder, then one nurse callback."""

from __future__ import annotations

from sqlalchemy import select

from service.clock import tick
from service.models import Escalation, Message
from tests.conftest import NURSE_AVERY, PATIENT, play


def texts_to(svc, phone: str, kind: str) -> list[str]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(Message.body).where(Message.to_phone == phone, Message.kind == kind)))


def run_clock(svc, clock, minutes: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(minutes):
        clock.advance(minutes=1)
        tick(svc)


def test_silence_reminds_once_then_queues_an_incomplete_screening_once(twilio, svc, clock, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi", "no")
    run_clock(svc, clock, 29)
    assert texts_to(svc, PATIENT, "reminder") == []
    run_clock(svc, clock, 2)
    [reminder] = texts_to(svc, PATIENT, "reminder")
    assert "still need" in reminder and "Test Spine Clinic" in reminder and "bladder" not in reminder
    run_clock(svc, clock, 118)
    with svc.factory() as session:
        assert session.scalars(select(Escalation)).all() == []
    run_clock(svc, clock, 5 * 60)  # long after: still exactly one reminder and one case
    assert len(texts_to(svc, PATIENT, "reminder")) == 1
    with svc.factory() as session:
        [case] = session.scalars(select(Escalation)).all()
        assert (case.level, case.reason) == ("seen_today", "could not complete screening: patient stopped replying")
    assert any("could not finish" in m["body"] for m in twilio_fake.messages if m["to"] == PATIENT)
    # One case, paged once (the escalation timers' re-pages start "REPEAT"; walking the chain is theirs).
    assert len([m for m in twilio_fake.messages if m["to"] == NURSE_AVERY and m["body"].startswith("Callback")]) == 1


def test_an_answer_resets_the_silence_timer(twilio, svc, clock) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi")
    run_clock(svc, clock, 25)
    play(twilio, "no")
    run_clock(svc, clock, 25)
    assert texts_to(svc, PATIENT, "reminder") == []
    run_clock(svc, clock, 6)
    assert len(texts_to(svc, PATIENT, "reminder")) == 1


def test_no_reminder_after_an_outcome_or_outside_the_screen(twilio, svc, clock) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi", "yes")  # 911 outcome
    run_clock(svc, clock, 180)
    assert texts_to(svc, PATIENT, "reminder") == []
