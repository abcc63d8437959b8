"""The core slice over signed SMS webhooks: red flags page a nurse, benign cases get home care."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.models import Checkin, Conversation, Escalation, Message
from tests.conftest import ALL_CLEAR, NURSE_AVERY, PATIENT, Twilio, play


def pages(fake) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in fake.messages if m["to"] == NURSE_AVERY]


def test_benign_case_gets_home_care_advice_and_no_page(twilio: Twilio, twilio_fake, svc) -> None:
    replies = play(twilio, "hi, my back went into spasm lifting a box", *ALL_CLEAR)
    assert "911" in replies[0].text and "not encrypted" in replies[0].text
    final = replies[-1].text
    assert "20 minutes" in final and "pillow under your knees" in final and "911" in final
    assert pages(twilio_fake) == []
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert (conversation.status, conversation.level, conversation.disposition) == ("done", "home_care",
                                                                                       "self_care")
        due = sorted(c.due_at - conversation.updated_at for c in session.scalars(select(Checkin)))
        assert [d.total_seconds() / 3600 for d in due] == [24, 72]
    assert twilio_fake.violations == []


@pytest.mark.parametrize("answers, flag_words", [
    (["yes"], "fainting"),
    (["no", "Yes!"], "bladder"),
    (["no", "no", "yeah"], "groin"),
    (["no", "no", "no", "yep"], "leg"),
    (["no", "no", "no", "no", "y"], "fever"),
    (["no", "no", "no", "no", "no", "yes I think so it keeps getting worse"], "worse"),
])
def test_red_flag_answer_gets_emergency_advice_and_pages_nurse(twilio: Twilio, twilio_fake, answers,
                                                               flag_words) -> None:
    replies = play(twilio, "hello", *answers)
    final = replies[-1].text
    assert "911" in final and ("emergency" in final.lower() or "call 911 now" in final.lower())
    [page] = pages(twilio_fake)
    assert flag_words in page["body"].lower() and "ACK" in page["body"] and "212-555-0123" in page["body"]
    assert twilio_fake.violations == []


@pytest.mark.parametrize("text", [
    "I can't control my bladder",
    "my legs went numb",
    "I peed myself this morning",
    "I was in a car accident yesterday and now my back is killing me",
    "I have a fever and chills",
])
def test_red_flag_phrase_at_any_step_escalates_at_once(twilio: Twilio, twilio_fake, text) -> None:
    replies = play(twilio, "hi", "no", text)
    assert "emergency department now" in replies[-1].text
    assert len(pages(twilio_fake)) == 1


def test_negated_mentions_do_not_escalate(twilio: Twilio, twilio_fake) -> None:
    play(twilio, "hi", "no fever, no numbness, I didn't fall", "no", "nope")
    assert pages(twilio_fake) == []


def test_unclear_answer_is_reasked_and_does_not_advance(twilio: Twilio, svc) -> None:
    first, unclear = play(twilio, "hi", "purple")
    assert "didn't understand" in unclear.text and "fainted" in unclear.text
    with svc.factory() as session:
        assert session.scalars(select(Conversation.node)).one() == "q_faint"


def test_duplicate_message_sid_does_not_advance_twice(twilio: Twilio, svc) -> None:
    twilio.sms("hi", sid="SM" + "a" * 32)
    first = twilio.sms("no", sid="SM" + "b" * 32)
    again = twilio.sms("no", sid="SM" + "b" * 32)
    assert first.texts == again.texts
    with svc.factory() as session:
        assert session.scalars(select(Conversation.node)).one() == "q_bladder"
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        assert inbound == 2


def test_unsigned_or_badly_signed_webhook_is_refused(twilio: Twilio) -> None:
    params = {"From": PATIENT, "Body": "hi", "MessageSid": "SM" + "c" * 32}
    assert twilio.client.post("/twilio/sms", data=params).status_code == 403
    assert twilio.signed_post("/twilio/sms", params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403


def test_signature_uses_public_base_url_behind_a_proxy(settings, clock, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from service import create_app
    app = create_app(replace(settings, public_base_url="https://triage.example.org"), clock=clock)
    proxied = Twilio(app.test_client(), base="https://triage.example.org")
    assert proxied.sms("hi").status == 200
    direct = Twilio(app.test_client())
    assert direct.sms("hi").status == 403


@pytest.mark.parametrize("body", ["", " ", "x" * 5000, "\U0001f62b\U0001f62b\U0001f62b", "\x00\x01\x1b[2J",
                                  "<Response><Hangup/></Response>", "\u202eevil", "%s%n{0}"])
def test_garbage_bodies_get_valid_twiml(twilio: Twilio, body: str) -> None:
    twilio.sms("hi")
    reply = twilio.sms(body)
    assert reply.status == 200 and reply.texts, reply.raw


def test_red_flag_page_is_stored_before_it_is_sent(twilio: Twilio, twilio_fake, svc) -> None:
    twilio_fake.fail_next(1, status=500)
    play(twilio, "I lost control of my bowels")
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
        [page] = session.scalars(select(Message).where(Message.kind == "page")).all()
        assert case.status == "paged" and page.status == "retry" and "500" in (page.last_error or "")
    assert pages(twilio_fake) == []
