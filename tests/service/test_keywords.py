"""Keywords over signed SMS webhooks (carrier rules: CTIA, FCC 2024), and conversation expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.clock import tick
from service.models import Checkin, Conversation, Escalation, Patient
from tests.conftest import ALL_CLEAR, NURSE_AVERY, PATIENT, FakeClock, Twilio, play

CLINIC = "Test Spine Clinic"  # settings.clinic_name in conftest
CLINIC_PHONE = "+12125550100"


def texts_to(fake, number: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == number]


def patient_row(svc) -> Patient:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()


def conversations(svc) -> list[Conversation]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(Conversation).order_by(Conversation.id)))


@pytest.mark.parametrize("word", ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "stop", "Stop.",
                                  "stop please", "  Stop!  ", "Unsubscribe"])
def test_stop_confirms_once_then_nothing_more_is_sent(twilio: Twilio, twilio_fake, svc, clock: FakeClock,
                                                      word: str) -> None:
    play(twilio, "hi", *ALL_CLEAR)  # home care: two check-ins scheduled
    with svc.factory() as session:
        assert session.scalars(select(Checkin.status)).all() == ["pending", "pending"]
    [confirmation] = play(twilio, word)
    assert len(confirmation.texts) == 1
    assert CLINIC in confirmation.text and "no more texts" in confirmation.text and "911" in confirmation.text
    assert patient_row(svc).opted_out
    # Anything after: an empty TwiML answer (no message), even another STOP (only one confirmation).
    for later in ("no", "hello?", "STOP", "is anyone there"):
        reply = twilio.sms(later)
        assert reply.status == 200 and reply.root is not None and reply.texts == [], later
    # No check-ins go out, however long we wait.
    with svc.factory() as session:
        assert set(session.scalars(select(Checkin.status)).all()) == {"cancelled"}
    for _ in range(4):
        clock.advance(hours=25)
        tick(svc)
    assert texts_to(twilio_fake, PATIENT) == []
    assert twilio_fake.violations == []


@pytest.mark.parametrize("text", ["the pain won't stop", "Please make it stop", "it won't end", "I can't quit work",
                                  "stop the pain"])
def test_stop_inside_a_sentence_is_not_an_opt_out(twilio: Twilio, svc, text: str) -> None:
    play(twilio, "hi")
    reply = twilio.sms(text)
    assert reply.texts and "no more texts" not in reply.text
    assert not patient_row(svc).opted_out


@pytest.mark.parametrize("word", ["START", "UNSTOP", "start"])
def test_start_opts_back_in(twilio: Twilio, svc, word: str) -> None:
    play(twilio, "hi", "STOP")
    assert twilio.sms("no").texts == []
    [again] = play(twilio, word)
    assert "subscribed again" in again.text and "911" in again.text
    assert not patient_row(svc).opted_out
    reply = twilio.sms("hello")
    assert reply.texts, "texts are answered again after START"


@pytest.mark.parametrize("word", ["HELP", "help", "INFO", "Help?"])
def test_help_names_program_contact_opt_out_rates_and_911(twilio: Twilio, svc, word: str) -> None:
    play(twilio, "hi", "no")
    [reply] = play(twilio, word)
    text = reply.text
    assert f"{CLINIC} nurse line" in text
    assert CLINIC_PHONE in text
    assert "STOP" in text and "Msg & data rates may apply" in text and "911" in text
    assert "bladder" in text, "the question in hand is repeated after the help text"
    with svc.factory() as session:
        assert session.scalars(select(Conversation.node)).one() == "q_bladder"  # HELP does not move the screen


def test_help_works_while_opted_out(twilio: Twilio, svc) -> None:
    play(twilio, "hi", "STOP")
    reply = twilio.sms("HELP")
    assert "Msg & data rates may apply" in reply.text
    assert patient_row(svc).opted_out


@pytest.mark.parametrize("word", ["NURSE", "nurse", "Nurse please"])
def test_nurse_requests_a_callback_and_pages(twilio: Twilio, twilio_fake, svc, word: str) -> None:
    play(twilio, "hi", "no")
    [reply] = play(twilio, word)
    assert "nurse will call you today" in reply.text and "911" in reply.text
    [page] = texts_to(twilio_fake, NURSE_AVERY)
    assert "asked for a nurse" in page.lower() or "callback" in page.lower()
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
        conversation = session.scalars(select(Conversation)).one()
    assert (case.level, case.status) == ("seen_today", "paged")
    assert (conversation.outcome, conversation.disposition) == ("out_nurse_requested", "nurse_callback")
    assert twilio_fake.violations == []


def test_restart_goes_back_to_the_first_question(twilio: Twilio, twilio_fake, svc) -> None:
    play(twilio, "hi", "no", "no", "no")
    with svc.factory() as session:
        assert session.scalars(select(Conversation.node)).one() == "q_legs"
    [reply] = play(twilio, "RESTART")
    assert "fainted" in reply.text
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert conversation.node == "q_faint" and conversation.state["answers"] == {}
    play(twilio, "yes")
    assert len(texts_to(twilio_fake, NURSE_AVERY)) == 1


def test_restart_after_an_outcome_screens_again(twilio: Twilio, svc) -> None:
    play(twilio, "hi", *ALL_CLEAR)
    [reply] = play(twilio, "restart")
    assert "fainted" in reply.text
    assert conversations(svc)[-1].node == "q_faint"


def test_idle_conversation_expires_and_the_next_text_starts_fresh(twilio: Twilio, svc, clock: FakeClock) -> None:
    play(twilio, "hi", "no", "no")
    clock.advance(hours=23)
    play(twilio, "no")  # within the 24h expiry: the same conversation goes on
    [old] = conversations(svc)
    assert old.node == "q_legs"
    clock.advance(hours=25)
    [reply] = play(twilio, "no")
    assert "a few quick questions" in reply.text and "fainted" in reply.text
    first, second = conversations(svc)
    assert first.id == old.id and first.status == "expired" and first.node == "q_legs"
    assert second.status == "active" and second.node == "q_faint" and second.state["answers"] == {}


def test_a_finished_conversation_is_not_marked_expired(twilio: Twilio, svc, clock: FakeClock) -> None:
    play(twilio, "hi", *ALL_CLEAR)
    clock.advance(hours=25)
    play(twilio, "hello again")
    first, second = conversations(svc)
    assert (first.status, first.disposition) == ("done", "self_care") and second.node == "q_faint"


def test_opted_out_patient_texting_a_red_flag_pages_the_nurse_but_gets_no_text(twilio: Twilio, twilio_fake,
                                                                               svc) -> None:
    # The lead's decision: carrier rules forbid texting after STOP, but the nurse must know (and can call).
    play(twilio, "hi", "STOP")
    reply = twilio.sms("I can't feel my legs")
    assert reply.status == 200 and reply.texts == []
    [page] = texts_to(twilio_fake, NURSE_AVERY)
    assert "leg" in page.lower() and "212-555-0123" in page
    assert texts_to(twilio_fake, PATIENT) == []
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    assert case.level == "ed_now" and "legs" in case.red_flags
    assert patient_row(svc).opted_out
    assert twilio_fake.violations == []


def test_opted_out_patient_texting_something_benign_pages_no_one(twilio: Twilio, twilio_fake) -> None:
    play(twilio, "hi", "STOP")
    assert twilio.sms("my back is a bit stiff").texts == []
    assert twilio_fake.messages == []


def test_opted_out_patient_asking_for_a_nurse_pages_for_a_call_but_gets_no_text(twilio: Twilio, twilio_fake,
                                                                                svc) -> None:
    play(twilio, "hi", "STOP")
    assert twilio.sms("NURSE").texts == []
    [page] = texts_to(twilio_fake, NURSE_AVERY)
    assert "call, do not text" in page
    assert texts_to(twilio_fake, PATIENT) == []
    assert patient_row(svc).opted_out
