"""Nurses work cases by SMS from their own phones: signed webhooks from roster numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.clock import tick
from service.escalation.nurse_sms import HELP
from service.models import Conversation, Escalation, EscalationEvent, Message, Patient
from service.services import Services
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, NURSE_BLAKE, PATIENT, FakeClock, Twilio, play
from tests.service.test_escalation_lifecycle import (
    EMERGENCY,
    FALLBACK,
    event_names,
    open_emergency,
    pages_to,
    texts_to,
    the_case,
)

OTHER_PATIENT = "+12125550124"


def relays_to(fake, phone: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in fake.messages if m["to"] == phone and m["body"].startswith("Nurse ")]


@pytest.mark.parametrize("body", ["HELP", "help", "hello?", "what is going on", "", "ACKNOWLEDGED!!", "x" * 2000])
def test_help_and_unknown_commands_get_the_command_list_and_nurses_are_never_triaged(twilio: Twilio, svc: Services,
                                                                                      body: str) -> None:
    reply = twilio.sms(body, frm=NURSE_AVERY)
    assert reply.status == 200 and reply.texts == [HELP if body.lower() == "help" else "Not a command. " + HELP]
    for word in ("ACK <case>", "MSG <case> <text>", "DONE <case> <note>", "WHO"):
        assert word in reply.text
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Patient)) == 0
        assert session.scalar(select(func.count()).select_from(Conversation)) == 0
        [command] = session.scalars(select(Message).where(Message.direction == "in")).all()
        assert (command.kind, command.from_phone, command.patient_id) == ("nurse_command", NURSE_AVERY, None)


def test_red_flag_words_from_a_nurse_are_a_command_error_not_an_escalation(twilio: Twilio, twilio_fake,
                                                                          svc: Services) -> None:
    reply = twilio.sms("patient says I lost control of my bowels", frm=NURSE_BLAKE)
    assert reply.text.startswith("Not a command.")
    assert twilio_fake.messages == []
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_who_tells_who_is_on_call_now(twilio: Twilio) -> None:
    reply = twilio.sms("WHO", frm=NURSE_BLAKE)
    assert reply.text == ("On call now: primary Nurse Avery +1 212-555-0101; backup Nurse Blake +1 212-555-0102; "
                          "supervisor Supervisor Casey +1 212-555-0109; then Clinic answering service "
                          "+1 212-555-0108.")


def test_plain_ack_takes_the_latest_page(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    reply = twilio.sms("ack", frm=NURSE_AVERY)
    assert reply.text.startswith("Case 1 is yours. Patient +1 212-555-0123.")
    again = twilio.sms("ACK", frm=NURSE_AVERY)
    assert again.text == "No case is waiting for you."
    assert twilio.sms("ACK 1", frm=NURSE_AVERY).text.startswith("You already have case 1.")
    assert event_names(svc).count("acknowledged") == 1


def test_relay_both_ways_then_done_with_a_note(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    case = the_case(svc)
    sent = twilio.sms(f"MSG {case.id} This is Avery from the clinic, I am calling you in 2 minutes", frm=NURSE_AVERY)
    assert sent.text == f"Sent to the patient on case {case.id}. Their replies will come to you."
    [relay] = relays_to(twilio_fake, PATIENT)
    assert relay["from_"] == CLINIC_NUMBER
    assert relay["body"] == ("Nurse Avery (Test Spine Clinic): This is Avery from the clinic, I am calling you in "
                             "2 minutes")
    assert the_case(svc).status == "acknowledged"  # messaging a queued case takes it
    clock.advance(minutes=1)
    play(twilio, "ok thank you, my number is right")
    [forward] = [t for t in texts_to(twilio_fake, NURSE_AVERY) if "patient wrote" in t]
    assert forward == (f'Case {case.id}: patient wrote: "ok thank you, my number is right". Patient '
                       f"+1 212-555-0123. Reply MSG {case.id} <text> to answer.")
    done = twilio.sms(f"DONE {case.id} spoke to patient, advised ED, going now with spouse", frm=NURSE_AVERY)
    assert done.text == f"Case {case.id} resolved. Note saved."
    case = the_case(svc)
    assert (case.status, case.note) == ("resolved", "spoke to patient, advised ED, going now with spouse")
    with svc.factory() as session:
        resolved = session.scalars(select(EscalationEvent).where(EscalationEvent.event == "resolved")).one()
        assert (resolved.actor, resolved.detail) == ("Nurse Avery", case.note)
    # Closed: the patient's later texts go back to the automatic line, not to the nurse.
    play(twilio, "thanks again")
    assert len([t for t in texts_to(twilio_fake, NURSE_AVERY) if "patient wrote" in t]) == 1
    assert event_names(svc) == ["opened", "paged", "acknowledged", "nurse_message", "patient_wrote", "resolved"]
    assert twilio_fake.violations == []


def test_a_nurse_acting_on_a_case_that_is_not_theirs_is_refused(twilio: Twilio, twilio_fake, svc: Services) -> None:
    open_emergency(twilio, twilio_fake)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    before = event_names(svc)
    for command in ("ACK 1", "MSG 1 hello, this is Blake", "DONE 1 closing it", "NOTE 1 peeking"):
        reply = twilio.sms(command, frm=NURSE_BLAKE)
        assert reply.text == "Case 1 belongs to another nurse (Nurse Avery).", command
    assert relays_to(twilio_fake, PATIENT) == []
    assert event_names(svc) == before
    case = the_case(svc)
    assert (case.status, case.acknowledged_by, case.nurse_phone) == ("acknowledged", "Nurse Avery", NURSE_AVERY)
    assert twilio.sms("ACK 99", frm=NURSE_BLAKE).text == "There is no case 99."
    assert twilio.sms("MSG hello", frm=NURSE_BLAKE).text == "Which case? Reply MSG <case> <text>."
    assert twilio.sms("DONE 1", frm=NURSE_AVERY).text == "Please add the note: DONE <case> <note>."


def test_any_nurse_may_take_a_case_still_in_the_queue(twilio: Twilio, twilio_fake, svc: Services) -> None:
    open_emergency(twilio, twilio_fake)  # paged to Avery, not yet acknowledged
    reply = twilio.sms("ACK 1", frm=NURSE_BLAKE)
    assert reply.text.startswith("Case 1 is yours.")
    assert twilio.sms("ACK 1", frm=NURSE_AVERY).text == "Case 1 belongs to another nurse (Nurse Blake)."
    case = the_case(svc)
    assert (case.acknowledged_by, case.nurse_phone, case.next_action_at) == ("Nurse Blake", NURSE_BLAKE, None)


def test_messaging_an_opted_out_patient_is_refused_and_changes_nothing(twilio: Twilio, twilio_fake,
                                                                      svc: Services) -> None:
    play(twilio, "STOP", EMERGENCY)
    reply = twilio.sms("MSG 1 are you ok?", frm=NURSE_AVERY)
    assert reply.text == "Case 1: the patient has opted out of texts. Please call them."
    case = the_case(svc)
    assert (case.status, case.acknowledged_by) == ("paged", None)  # the refused MSG did not take the case
    assert texts_to(twilio_fake, PATIENT) == []


def test_a_repeated_webhook_acts_once(twilio: Twilio, twilio_fake, svc: Services) -> None:
    open_emergency(twilio, twilio_fake)
    sid = "SM" + "d" * 32
    first = twilio.sms("MSG 1 calling you now", frm=NURSE_AVERY, sid=sid)
    again = twilio.sms("MSG 1 calling you now", frm=NURSE_AVERY, sid=sid)
    assert first.texts == again.texts
    assert len(relays_to(twilio_fake, PATIENT)) == 1
    assert event_names(svc).count("nurse_message") == 1


def test_the_fallback_line_can_take_a_case_by_text(twilio: Twilio, twilio_fake, svc: Services,
                                                   clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    for _ in range(6):
        clock.advance(minutes=2)
        tick(svc)
    assert len(texts_to(twilio_fake, FALLBACK)) == 1
    reply = twilio.sms("ACK 1", frm=FALLBACK)
    assert reply.text.startswith("Case 1 is yours.")
    assert the_case(svc).acknowledged_by == "Clinic answering service"


def test_ack_cancels_pages_to_others_still_waiting_for_a_retry(twilio: Twilio, twilio_fake, svc: Services,
                                                               clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    clock.advance(minutes=2)
    tick(svc)  # Avery again
    clock.advance(minutes=2)
    twilio_fake.fail_next(1, status=500)
    tick(svc)  # Blake's page fails once and waits to be retried
    assert pages_to(twilio_fake, NURSE_BLAKE) == []
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    clock.advance(minutes=1)
    tick(svc)
    assert pages_to(twilio_fake, NURSE_BLAKE) == []
    with svc.factory() as session:
        statuses = session.scalars(select(Message.status).where(Message.kind == "page").order_by(Message.id)).all()
    assert statuses == ["sent", "sent", "cancelled"]


def test_patient_replies_reach_the_owning_nurse_even_in_a_new_conversation(twilio: Twilio, twilio_fake, svc: Services,
                                                                           clock: FakeClock) -> None:
    open_emergency(twilio, twilio_fake)
    twilio.sms("ACK 1", frm=NURSE_BLAKE)
    clock.advance(hours=30)  # the conversation expired; the case is still Blake's
    play(twilio, "hi it's me again, still in pain")
    forwards = [t for t in texts_to(twilio_fake, NURSE_BLAKE) if "patient wrote" in t]
    assert forwards == ['Case 1: patient wrote: "hi it\'s me again, still in pain". Patient +1 212-555-0123. '
                        "Reply MSG 1 <text> to answer."]
    play(twilio, "hello", frm=OTHER_PATIENT)  # someone else's texts go nowhere near Blake
    assert len([t for t in texts_to(twilio_fake, NURSE_BLAKE) if "patient wrote" in t]) == 1
