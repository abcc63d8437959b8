"""Escalations followed until a nurse owns them: open -> paged -> acknowledged -> resolved, with a
fake clock driving the timers (service/clock.py tick), pages observed at the Twilio fake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.clock import tick
from service.escalation import timers
from service.models import Escalation, EscalationEvent, Message
from service.services import Services
from service.settings import Settings
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, NURSE_BLAKE, PATIENT, SUPERVISOR, FakeClock, Twilio, play

FALLBACK = "+12125550108"  # roster.example.yaml: the clinic answering service
EMERGENCY = "I lost control of my bowels"  # ED now: an emergency escalation


def texts_to(fake, phone: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == phone]


def pages_to(fake, phone: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [body for body in texts_to(fake, phone) if "Reply ACK" in body]


def the_case(svc: Services) -> Escalation:
    with svc.factory() as session:
        return session.scalars(select(Escalation)).one()


def events(svc: Services) -> list[tuple[str, str, datetime]]:
    with svc.factory() as session:
        return [(e.event, e.actor, e.at) for e in session.scalars(select(EscalationEvent).order_by(EscalationEvent.id))]


def event_names(svc: Services) -> list[str]:
    return [name for name, _, _ in events(svc)]


def open_emergency(twilio: Twilio, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    [reply] = play(twilio, EMERGENCY)
    assert "911" in reply.text
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1


def test_ack_in_time_stops_the_timers(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock) -> None:
    start = clock.now
    open_emergency(twilio, twilio_fake)
    case = the_case(svc)
    assert case.status == "paged" and case.disposition == "emergency"
    assert case.next_action_at == start + timedelta(minutes=2)
    clock.advance(seconds=90)
    ack = twilio.sms(f"ACK {case.id}", frm=NURSE_AVERY)
    assert f"Case {case.id} is yours" in ack.text
    assert any("a nurse has your case" in body for body in texts_to(twilio_fake, PATIENT))
    clock.advance(minutes=30)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1 and pages_to(twilio_fake, NURSE_BLAKE) == []
    case = the_case(svc)
    assert (case.status, case.acknowledged_by, case.next_action_at) == ("acknowledged", "Nurse Avery", None)
    assert case.acknowledged_at == start + timedelta(seconds=90)
    trail = events(svc)
    assert [(name, actor) for name, actor, _ in trail] == [("opened", "system"), ("paged", "system"),
                                                           ("acknowledged", "Nurse Avery")]
    assert [at for _, _, at in trail] == [start, start, start + timedelta(seconds=90)]
    assert twilio_fake.violations == []


def test_no_ack_repages_then_walks_the_chain_then_alerts_the_fallback(twilio: Twilio, twilio_fake, svc: Services,
                                                                      clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    case_id = the_case(svc).id
    timeline = [
        # (minutes after the first page, who has been paged by then: Avery, Blake, Casey)
        (1, (1, 0, 0)), (2, (2, 0, 0)), (3, (2, 0, 0)), (4, (2, 1, 0)), (6, (2, 2, 0)), (8, (2, 2, 1)),
        (10, (2, 2, 2)),
    ]
    start = clock.now
    for minutes, expected in timeline:
        clock.now = start + timedelta(minutes=minutes)
        tick(svc)
        counts = tuple(len(pages_to(twilio_fake, p)) for p in (NURSE_AVERY, NURSE_BLAKE, SUPERVISOR))
        assert counts == expected, f"at +{minutes} min"
    assert pages_to(twilio_fake, NURSE_AVERY)[1].startswith("REPEAT 2: URGENT case")
    assert pages_to(twilio_fake, NURSE_BLAKE)[0].startswith("Not acknowledged by Nurse Avery. URGENT case")
    assert texts_to(twilio_fake, FALLBACK) == [] and not any("not reached a nurse" in t for t in
                                                             texts_to(twilio_fake, PATIENT))
    clock.now = start + timedelta(minutes=12)
    tick(svc)
    [fallback] = texts_to(twilio_fake, FALLBACK)
    assert fallback.startswith("NO NURSE ANSWERED. URGENT case") and f"ACK {case_id}" in fallback
    [call] = [c for c in twilio_fake.calls if c["to"] == FALLBACK]
    assert call["from_"] == CLINIC_NUMBER and f"case, number {case_id}" in call["twiml"]
    assert call["twiml"].startswith("<?xml") and '<Say loop="2">' in call["twiml"]  # the transport's TwiML
    told = [t for t in texts_to(twilio_fake, PATIENT) if "not reached a nurse" in t]
    assert len(told) == 1 and "call 911" in told[0]
    # Nothing further is sent, however long it waits; the case stays in the queue for anyone to take.
    sent = len(twilio_fake.messages)
    for _ in range(3):
        clock.advance(minutes=30)
        tick(svc)
    assert len(twilio_fake.messages) == sent
    case = the_case(svc)
    assert (case.status, case.pages_sent, case.next_action_at) == ("paged", 6, None)
    names = event_names(svc)
    assert names.count("paged") == 6 and names.count("ack_timeout") == 3 and names.count("passed_on") == 3
    assert names[-3:] == ["chain_exhausted", "fallback_alerted", "patient_told"]
    late = twilio.sms(f"ACK {case_id}", frm=SUPERVISOR)
    assert f"Case {case_id} is yours" in late.text
    assert twilio_fake.violations == []


def test_nurse_callback_waits_the_longer_timeout(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock) -> None:
    play(twilio, "nurse")
    case = the_case(svc)
    assert (case.disposition, case.status) == ("nurse_callback", "paged")
    [page] = pages_to(twilio_fake, NURSE_AVERY)
    assert page.startswith(f"Callback case {case.id}")
    clock.advance(minutes=4, seconds=59)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1
    clock.advance(seconds=1)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 2
    clock.advance(minutes=5)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_BLAKE)) == 1


def test_callback_raised_to_emergency_pages_at_once_on_the_faster_timer(twilio: Twilio, twilio_fake, svc: Services,
                                                                      clock: FakeClock) -> None:
    play(twilio, "nurse")
    clock.advance(minutes=1)
    play(twilio, EMERGENCY)
    first, raised = pages_to(twilio_fake, NURSE_AVERY)
    assert first.startswith("Callback") and raised.startswith("RAISED. URGENT case")
    case = the_case(svc)
    assert case.disposition == "emergency" and case.next_action_at == clock.now + timedelta(minutes=2)
    assert "raised" in event_names(svc)


def test_raised_after_acknowledgement_tells_the_owner_once_and_starts_no_timer(twilio: Twilio, twilio_fake,
                                                                               svc: Services) -> None:
    play(twilio, "nurse")
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    play(twilio, EMERGENCY)
    to_avery = texts_to(twilio_fake, NURSE_AVERY)
    assert [t.split(" case")[0] for t in to_avery] == ["Callback", "RAISED. URGENT"]
    case = the_case(svc)
    assert (case.status, case.disposition, case.next_action_at) == ("acknowledged", "emergency", None)
    assert event_names(svc)[-2:] == ["raised", "owner_told"]


@pytest.fixture
def second_app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    """Another instance on the same database: a restarted process, or a second clock."""
    application = create_app(settings, clock=clock)
    yield application
    application.extensions["triage"].shutdown()
    application.extensions["triage"].engine.dispose()


def test_restart_mid_wait_resumes_the_timer_once(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock,
                                                 settings: Settings) -> None:
    open_emergency(twilio, twilio_fake)
    clock.advance(minutes=1)
    tick(svc)
    svc.shutdown()
    svc.engine.dispose()  # the process dies mid-wait
    restarted = create_app(settings, clock=clock).extensions["triage"]
    try:
        tick(restarted)
        assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1  # not due yet: no page on start-up
        clock.advance(minutes=1)
        tick(restarted)
        tick(restarted)
        assert len(pages_to(twilio_fake, NURSE_AVERY)) == 2
        clock.advance(minutes=1)
        tick(restarted)
        assert len(pages_to(twilio_fake, NURSE_AVERY)) == 2 and pages_to(twilio_fake, NURSE_BLAKE) == []
    finally:
        restarted.shutdown()
        restarted.engine.dispose()


def test_a_step_that_fell_due_while_the_clock_was_down_happens_once(twilio: Twilio, twilio_fake, svc: Services,
                                                                    clock: FakeClock, second_app: Flask) -> None:
    open_emergency(twilio, twilio_fake)
    clock.advance(minutes=3)  # down through the re-page's due time
    other = second_app.extensions["triage"]
    assert timers.tick(other) == 1
    assert timers.tick(svc) == 0 and timers.tick(other) == 0
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 2 and pages_to(twilio_fake, NURSE_BLAKE) == []


def test_two_clocks_claiming_the_same_due_case_only_one_wins(twilio: Twilio, twilio_fake, svc: Services,
                                                            clock: FakeClock, second_app: Flask) -> None:
    from service.db import transaction

    open_emergency(twilio, twilio_fake)
    case = the_case(svc)
    due = case.next_action_at
    assert due is not None
    clock.advance(minutes=2)
    other = second_app.extensions["triage"]
    with transaction(svc.factory) as session:
        assert timers.claim(session, case.id, due) is True
    with transaction(other.factory) as session:
        assert timers.claim(session, case.id, due) is False  # read the same value, lost the race


def test_page_send_failing_then_succeeding_is_retried_and_shows_on_the_case(twilio: Twilio, twilio_fake,
                                                                            svc: Services, clock: FakeClock) -> None:
    twilio_fake.fail_next(2, status=503)
    play(twilio, EMERGENCY)
    assert pages_to(twilio_fake, NURSE_AVERY) == []
    with svc.factory() as session:
        [page] = session.scalars(select(Message).where(Message.kind == "page")).all()
        assert page.status == "retry" and "503" in (page.last_error or "")
        failed = session.scalars(select(EscalationEvent).where(EscalationEvent.event == "page_failed")).all()
        assert [e.detail.split(":")[0] for e in failed] == ["Nurse Avery"]
        assert "attempt 1, retrying" in failed[0].detail and "503" in failed[0].detail
    clock.advance(seconds=5)
    tick(svc)  # second attempt: 503 again, backs off further
    assert pages_to(twilio_fake, NURSE_AVERY) == [] and event_names(svc).count("page_failed") == 2
    clock.advance(seconds=15)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1
    with svc.factory() as session:
        assert session.scalars(select(Message.status).where(Message.kind == "page")).one() == "sent"
    # The ack timer ran on meanwhile: the re-page is due 2 minutes after the first page, not after delivery.
    assert the_case(svc).status == "paged"
    clock.advance(minutes=2)
    tick(svc)
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 2
    assert twilio_fake.violations == []


def test_page_that_can_never_be_delivered_passes_the_case_down_at_once(twilio: Twilio, twilio_fake, svc: Services,
                                                                      clock: FakeClock) -> None:
    twilio_fake.error_next(1, code=21211)  # invalid 'To' number: no retry will help
    play(twilio, EMERGENCY)
    with svc.factory() as session:
        failed = session.scalars(select(EscalationEvent).where(EscalationEvent.event == "page_failed")).one()
        assert failed.detail.startswith("Nurse Avery: gave up:") and "21211" in failed.detail
    clock.advance(seconds=10)
    tick(svc)
    assert pages_to(twilio_fake, NURSE_AVERY) == []
    [page] = pages_to(twilio_fake, NURSE_BLAKE)
    assert page.startswith("Not acknowledged by Nurse Avery.")
    assert the_case(svc).next_action_at == clock.now + timedelta(minutes=2)


def test_opted_out_patient_is_not_texted_when_the_chain_is_exhausted(twilio: Twilio, twilio_fake, svc: Services,
                                                                    clock: FakeClock) -> None:
    play(twilio, "STOP", EMERGENCY)  # opted out, yet a red flag still reaches the nurse
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1
    for _ in range(7):
        clock.advance(minutes=2)
        tick(svc)
    assert len(texts_to(twilio_fake, FALLBACK)) == 1
    assert texts_to(twilio_fake, PATIENT) == []
    assert "patient_told" not in event_names(svc)


def test_patient_with_open_emergency_is_reassured_and_the_nurse_gets_the_text_once(twilio: Twilio, twilio_fake,
                                                                                   svc: Services) -> None:
    open_emergency(twilio, twilio_fake)
    [plain] = play(twilio, "are you there? it is getting hard to walk")
    assert "passed your message to the nurse" in plain.text and "911" in plain.text
    assert "Reply NURSE" not in plain.text
    # A red flag at the same urgency: the engine forwards it; the relay must not send it a second time.
    [flag] = play(twilio, "now my legs went numb too")
    assert "passed your message to the nurse" in flag.text
    forwards = [t for t in texts_to(twilio_fake, NURSE_AVERY) if "patient wrote" in t]
    assert forwards == [
        'Case 1: patient wrote: "are you there? it is getting hard to walk". Patient +1 212-555-0123. '
        "Reply MSG 1 <text> to answer.",
        'Case 1: patient wrote: "now my legs went numb too". Patient +1 212-555-0123. Reply MSG 1 <text> to answer.',
    ]
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1  # the opening text was in the page, not forwarded again
