"""Whole conversations over signed webhooks, answered the way people text: every red-flag case gets
the advice for its level and a nurse page; every benign case gets home care and no page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from service.models import Conversation, Escalation
from tests.conftest import NURSE_AVERY, Twilio, play

# Twelve different ways of saying no, one per screening question on the benign path.
NOS = ["nope", "No.", "nah", "no I don't", "not at all", "definitely not", "no, I haven't", "No!",
       "Nope, nothing like that", "none of those", "no ma'am", "n"]
YESES = ["Yes", "yeah", "yep I did", "Yes I have", "yup", "y", "Sure", "\U0001f44d", "YES!", "uh huh", "yes :(",
         "Yeah I do"]

ED_ADVICE = "go to an emergency department now"
TODAY_ADVICE = "nurse will call you today"
DAY_ADVICE = "nurse will call you within 24 hours"


def pages(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == NURSE_AVERY]


def outcome(svc) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        return conversation.outcome, conversation.level, conversation.disposition


@pytest.mark.parametrize("shift", range(3))
def test_benign_case_in_everyday_words_gets_home_care_and_no_page(twilio: Twilio, twilio_fake, svc,
                                                                  shift: int) -> None:
    nos = NOS[shift:] + NOS[:shift]  # each phrasing meets a different question
    replies = play(twilio, "hi, my back went into spasm lifting a box", *nos)
    final = replies[-1].text
    assert "20 minutes" in final and "911" in final
    assert outcome(svc) == ("out_home_care", "home_care", "self_care")
    assert pages(twilio_fake) == []
    assert twilio_fake.violations == []


# (how many "no" answers first, then which "yes" answers, the advice expected, the level, words in the page)
RED_FLAG_CASES = [
    (0, 1, "call 911 now", "call_911_now", "fainting"),
    (1, 1, ED_ADVICE, "ed_now", "bladder"),
    (2, 1, ED_ADVICE, "ed_now", "groin"),
    (3, 1, ED_ADVICE, "ed_now", "leg"),
    (4, 1, ED_ADVICE, "ed_now", "fever"),
    (5, 1, ED_ADVICE, "ed_now", "worse"),
    (6, 2, ED_ADVICE, "ed_now", "car accident"),  # injury: yes, major: yes
    (7, 1, TODAY_ADVICE, "seen_today", "60"),  # after "no" to injury: sudden severe pain at 60+
    (8, 1, TODAY_ADVICE, "seen_today", "callback"),  # cannot do daily things: no red flag, still a callback
    (9, 1, DAY_ADVICE, "seen_within_24h", "night"),
    (10, 1, DAY_ADVICE, "seen_within_24h", "cancer"),
]


@pytest.mark.parametrize("nos, yeses, advice, level, page_words", RED_FLAG_CASES)
def test_red_flag_case_in_everyday_words_gets_its_advice_and_a_page(twilio: Twilio, twilio_fake, svc, nos: int,
                                                                    yeses: int, advice: str, level: str,
                                                                    page_words: str) -> None:
    answers = NOS[:nos] + YESES[nos:nos + yeses]
    replies = play(twilio, "hello", *answers)
    final = replies[-1].text
    assert advice in final.lower() and "911" in final, final
    [page] = pages(twilio_fake)
    assert page_words in page.lower() and "ACK" in page
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
    assert case.level == level
    assert outcome(svc)[1] == level
    assert twilio_fake.violations == []


def test_fragile_bones_after_a_minor_injury(twilio: Twilio, twilio_fake, svc) -> None:
    play(twilio, "hi", *NOS[:6], "yeah", "no it was just a small bump", "yes I take prednisone")
    assert outcome(svc)[1] == "seen_today"
    [page] = pages(twilio_fake)
    assert "osteoporosis" in page.lower() or "steroid" in page.lower()


@pytest.mark.parametrize("text, level", [
    ("got rear-ended on the highway yesterday", "ed_now"),
    ("I'm numb down there", "ed_now"),
    ("I haven't been able to pee since yesterday", "ed_now"),
    ("no fever but I can't feel my legs", "ed_now"),
    ("I threw up twice this morning", "ed_now"),
    ("I passed out in the shower", "call_911_now"),
])
def test_red_flag_in_own_words_mid_screen(twilio: Twilio, twilio_fake, svc, text: str, level: str) -> None:
    replies = play(twilio, "hi", "no", "nope", text)
    assert "911" in replies[-1].text
    assert len(pages(twilio_fake)) == 1
    assert outcome(svc)[1] == level


@pytest.mark.parametrize("text", ["no numbness", "I can pee fine", "I didn't fall", "nothing down my legs",
                                  "no fever", "fever? no", "never had cancer"])
def test_negated_twins_answer_no_and_page_no_one(twilio: Twilio, twilio_fake, svc, text: str) -> None:
    play(twilio, "hi", *NOS[:3])  # at the legs question
    reply = twilio.sms(text)
    assert reply.status == 200
    assert pages(twilio_fake) == []
    with svc.factory() as session:
        node = session.scalars(select(Conversation.node)).one()
    assert node in ("q_legs", "q_fever"), node  # answered "no" and moved on, or asked again: never escalated
