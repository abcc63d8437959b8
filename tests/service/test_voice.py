"""The voice menu over signed webhooks: whole calls, driven the way Twilio drives them.

A `Call` posts the incoming-call webhook, then follows the URLs in the TwiML it gets back (the
<Gather> action with Digits or SpeechResult or nothing, the <Dial> action, the <Record> action),
exactly as Twilio would. TwiML is parsed with xml.etree, never matched as text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from service.engine import segments
from service.engine.lint import check_emergency_advice, check_keypad
from service.engine.loader import load_flow
from service.models import Checkin, Conversation, Escalation, EscalationEvent, Message, Patient, WebhookReceipt
from service.settings import ROOT
from tests.conftest import AUTH_TOKEN, CLINIC_NUMBER, PATIENT, Twilio, play

_sids = count(1)
FLOW = ROOT / "flows" / "back_spasm.yaml"


@dataclass
class VoiceReply:
    status: int
    root: ET.Element
    raw: str

    @property
    def said(self) -> list[str]:
        """Everything the caller hears, in order (inside and outside the Gather)."""
        return [(say.text or "").strip() for say in self.root.iter("Say")]

    @property
    def text(self) -> str:
        return " ".join(self.said)

    @property
    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def one(self, tag: str) -> ET.Element:
        [element] = list(self.root.iter(tag))
        return element

    def has(self, tag: str) -> bool:
        return any(True for _ in self.root.iter(tag))


class Call:
    """One phone call, as Twilio would make its webhook requests."""

    def __init__(self, twilio: Twilio, frm: str = PATIENT, sid: str | None = None):
        self.twilio = twilio
        self.frm = frm
        self.sid = sid or f"CA{next(_sids):032x}"
        self.reply: VoiceReply | None = None
        self.last: tuple[str, dict[str, str]] | None = None

    def post(self, url: str, **params: str) -> VoiceReply:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.frm, "To": CLINIC_NUMBER,
                "Direction": "inbound", "CallStatus": "in-progress", "ApiVersion": "2010-04-01", **params}
        response = self.twilio.signed_post(path, form)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "application/xml"
        raw = response.get_data(as_text=True)
        root = ET.fromstring(raw)
        assert root.tag == "Response", raw
        assert list(root), f"empty TwiML leaves the caller in silence: {raw}"
        self.last = (path, form)
        self.reply = VoiceReply(response.status_code, root, raw)
        return self.reply

    def ring(self) -> VoiceReply:
        """The incoming call: the line answers with the language offer (its own Gather)."""
        return self.post("/twilio/voice", CallStatus="ringing")

    def start(self) -> VoiceReply:
        """The call rings and the caller lets the language offer pass: the welcome and the first question."""
        offer = self.ring()
        assert parse_qs(urlsplit(offer.one("Gather").get("action") or "").query)["at"] == ["language"]
        return self.silence()

    # --- a caller answering a <Gather> ---
    def _gather_action(self) -> str:
        assert self.reply is not None
        gather = self.reply.one("Gather")
        assert set(gather.get("input", "").split()) == {"dtmf", "speech"}
        assert gather.get("actionOnEmptyResult") == "true"
        return gather.get("action") or ""

    def press(self, digit: str) -> VoiceReply:
        return self.post(self._gather_action(), Digits=digit, FinishedOnKey="")

    def say(self, words: str, confidence: float = 0.92) -> VoiceReply:
        return self.post(self._gather_action(), SpeechResult=words, Confidence=f"{confidence:.2f}")

    def silence(self) -> VoiceReply:
        return self.post(self._gather_action())

    def follow_redirect(self) -> VoiceReply:
        """Where Twilio goes when a Gather ends without input and no action was taken."""
        assert self.reply is not None
        redirect = self.reply.one("Redirect")
        return self.post(redirect.text or "")

    def again(self) -> VoiceReply:
        """Twilio sends the same callback a second time."""
        assert self.last is not None
        path, form = self.last
        response = self.twilio.signed_post(path, form)
        return VoiceReply(response.status_code, ET.fromstring(response.get_data(as_text=True)),
                          response.get_data(as_text=True))

    # --- the transfer to the nurse ---
    def dial_ends(self, status: str, duration: str = "0") -> VoiceReply:
        assert self.reply is not None
        dial = self.reply.one("Dial")
        return self.post(dial.get("action") or "", DialCallStatus=status, DialCallSid="CA" + "d" * 32,
                         DialCallDuration=duration)

    def leave_voicemail(self, url: str) -> VoiceReply:
        assert self.reply is not None
        record = self.reply.one("Record")
        return self.post(record.get("action") or "", RecordingUrl=url, RecordingSid="RE" + "e" * 32,
                         RecordingDuration="14", Digits="#")

    def answer_all(self, keys: list[str]) -> VoiceReply:
        for key in keys:
            self.press(key)
        assert self.reply is not None
        return self.reply


def nurse_texts(fake, nurse: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == nurse]


def patient_texts(fake, phone: str = PATIENT) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == phone]


def advice_text(fake, phone: str = PATIENT) -> str:  # type: ignore[no-untyped-def]
    """The advice texted after a call: several texts in order, each within the flow's segment budget (3)."""
    texts = patient_texts(fake, phone)
    assert texts and all(segments.count(text).segments <= 3 for text in texts), texts
    return "\n\n".join(texts)


def on_call(svc) -> str:  # type: ignore[no-untyped-def]
    return svc.roster.chain(svc.clock())[0].phone


def conversation_of(svc, call: Call) -> Conversation:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Conversation).where(Conversation.call_sid == call.sid)).one()


FAINT = ("Have you fainted, or do you feel faint, cold and sweaty, or have severe pain in your belly as well as your "
         "back? If Yes, press 1. If No, press 2.")
TEXT_OFFER = "To get this advice by text message, press 1. If not, press 2."
ALL_NO = ["2"] * 12  # the benign path, by keypad
SPOKEN_NO = ["no", "nope", "No, I don't.", "nah", "no", "not at all", "no", "no I'm not", "no", "no", "never",
             "no"]


# --- keypad, speech, mixed ---------------------------------------------------------------------------


def test_keypad_call_is_the_sms_flow_read_aloud_with_its_keys(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    first = call.start()
    assert first.verbs == ["Gather", "Redirect"]  # everything is said inside the Gather: keys work at once
    assert first.one("Redirect").text == first.one("Gather").get("action")
    [said] = first.said  # one <Say> in the Gather: the welcome, the keypad controls once, the question
    welcome, controls = said.index("911"), said.index("At any time, press 9 to hear the question again, or 0")
    assert welcome < controls < said.index(FAINT) and said.endswith(FAINT) and said.count("press 9") == 1
    second = call.press("2")
    assert second.said == ["Since your back pain started, have you lost control of your bladder or bowels, or are "
                           "you unable to pee? If Yes, press 1. If No, press 2."]
    assert not any("press 9" in s for s in second.said)
    assert conversation_of(svc, call).node == "q_bladder"


def test_keypad_only_home_care_with_the_text_offer_accepted(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    outcome = call.answer_all(ALL_NO)
    assert "20 minutes" in outcome.text and "911" in outcome.text
    assert "We will text you" not in outcome.text  # no promise of texts before the caller agrees
    assert outcome.text.endswith(TEXT_OFFER)
    assert patient_texts(twilio_fake) == [] and nurse_texts(twilio_fake, on_call(svc)) == []
    bye = call.press("1")
    assert bye.verbs[-1] == "Hangup" and "911" in bye.text
    advice = advice_text(twilio_fake)
    assert "pillow under your knees" in advice and "20 minutes" in advice and "not encrypted" in advice
    assert "STOP" in advice
    conversation = conversation_of(svc, call)
    assert (conversation.channel, conversation.disposition, conversation.level) == ("voice", "self_care", "home_care")
    with svc.factory() as session:
        due = sorted(c.due_at - conversation.updated_at for c in session.scalars(select(Checkin)))
        assert [d.total_seconds() / 3600 for d in due] == [24, 72]  # the same check-ins as an SMS patient
    assert twilio_fake.violations == []


def test_speech_only_home_care_with_the_text_offer_declined(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    for words in SPOKEN_NO:
        reply = call.say(words)
    assert reply.text.endswith(TEXT_OFFER)
    bye = call.say("no thanks")
    assert bye.verbs[-1] == "Hangup" and "will not text" in bye.text
    assert patient_texts(twilio_fake) == []
    assert conversation_of(svc, call).disposition == "self_care"
    with svc.factory() as session:
        assert session.scalars(select(Checkin)).all() == []  # no texts the caller did not agree to
        staged = session.scalars(select(Message.status).where(Message.kind == "advice")).all()
        assert staged and set(staged) == {"declined"}  # every text of the advice (several short texts)


def test_mixed_keys_and_speech_find_the_red_flag(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    call.press("2")
    call.say("nope")
    call.press("2")
    reply = call.say("yeah, both of them feel weak")
    assert reply.has("Dial") and "emergency department" in reply.text
    assert conversation_of(svc, call).level == "ed_now"
    [page] = nurse_texts(twilio_fake, on_call(svc))
    assert "leg" in page.lower() and "voice call" in page


def test_spoken_red_flag_at_any_question_escalates(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    reply = call.say("no, but I can't control my bladder since this morning")
    assert "emergency department" in reply.text and reply.has("Dial")
    [page] = nurse_texts(twilio_fake, on_call(svc))
    assert "bladder" in page and "control my bladder" in page  # the caller's own words, for the nurse


def test_unsure_speech_is_asked_again_but_a_faint_red_flag_is_not_dropped(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    reply = call.say("yes", confidence=0.21)
    assert "didn't understand" in reply.text and reply.text.endswith(FAINT)
    assert conversation_of(svc, call).node == "q_faint"
    reply = call.say("I passed out", confidence=0.3)
    assert reply.text.startswith("Hang up now and call 911") and reply.has("Dial")
    assert conversation_of(svc, call).level == "call_911_now"


# --- silence, wrong keys, 9 and 0 -----------------------------------------------------------------------


def test_silence_is_asked_again_then_the_nurse_is_offered_then_put_through(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    first = call.silence()
    assert "didn't understand" in first.text and first.text.endswith(FAINT)
    assert "press 0" not in first.text
    second = call.follow_redirect()  # the same silence reaching us by the Redirect instead
    assert "To speak to a nurse now, press 0." in second.text and second.text.endswith(FAINT)
    third = call.silence()
    assert third.has("Dial") and "could not finish" in third.text and "911" in third.text
    conversation = conversation_of(svc, call)
    assert (conversation.outcome, conversation.disposition) == ("out_screen_incomplete", "nurse_callback")
    assert len(nurse_texts(twilio_fake, on_call(svc))) == 1


def test_wrong_keys_are_asked_again_and_9_repeats_without_counting_a_miss(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    wrong = call.press("5")
    assert "didn't understand" in wrong.text and wrong.text.endswith(FAINT)
    star = call.press("*")
    assert "press 0" in star.text  # the second miss offers the nurse
    repeat = call.press("9")
    assert repeat.said == [FAINT]
    state = conversation_of(svc, call).state
    assert (state["node"], state["misses"]) == ("q_faint", 2)
    assert call.press("2").said[-1].startswith("Since your back pain started")


def test_0_reaches_the_nurse_at_any_question(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    call.press("2")
    reply = call.press("0")
    dial = reply.one("Dial")
    assert dial.get("timeout") == "20" and dial.find("Number").text == on_call(svc)  # type: ignore[union-attr]
    assert "911" in reply.text
    assert conversation_of(svc, call).outcome == "out_nurse_requested"
    [page] = nurse_texts(twilio_fake, on_call(svc))
    assert "asked for a nurse" in page


# --- red flags: nurse transfer, voicemail ---------------------------------------------------------------


def test_red_flag_pages_then_dials_the_nurse_who_answers(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    reply = call.press("1")  # fainted
    assert reply.text.startswith("Hang up now and call 911")  # before anything else
    assert reply.verbs[-1] == "Dial"
    dial = reply.one("Dial")
    nurse = on_call(svc)
    assert dial.get("timeout") == "20" and dial.get("callerId") == CLINIC_NUMBER
    assert dial.find("Number").text == nurse  # type: ignore[union-attr]
    [page] = nurse_texts(twilio_fake, nurse)  # paged exactly as for SMS, before the call rings
    assert page.startswith("URGENT case") and "fainting" in page and "voice call" in page
    bye = call.dial_ends("completed", duration="95")
    assert bye.verbs[-1] == "Hangup" and not bye.has("Record") and "911" in bye.text
    with svc.factory() as session:
        events = session.scalars(select(EscalationEvent.event)).all()
        assert "call_transfer" in events and "call_connected" in events
    assert len(nurse_texts(twilio_fake, nurse)) == 1
    assert twilio_fake.violations == []


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_red_flag_with_no_answer_takes_a_voicemail_and_pages_again(twilio: Twilio, twilio_fake, svc,  # type: ignore[no-untyped-def]
                                                                    status: str) -> None:
    call = Call(twilio)
    call.start()
    call.press("2")
    call.press("1")  # bladder: ED now
    unanswered = call.dial_ends(status)
    verbs = unanswered.verbs
    # If nothing is recorded, Twilio goes on past <Record>: a message, then a clean hang-up.
    assert verbs.index("Record") < len(verbs) - 2 and verbs[verbs.index("Record") + 1] == "Say"
    assert verbs[-1] == "Hangup"
    record = unanswered.one("Record")
    assert record.get("maxLength") == "120"
    assert "911" in unanswered.text and "emergency department" in unanswered.text
    url = "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "e" * 32
    thanks = call.leave_voicemail(url)
    assert thanks.verbs[-1] == "Hangup" and "911" in thanks.text
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
        assert case.recording_url == url
        events = session.scalars(select(EscalationEvent.event).where(EscalationEvent.escalation_id == case.id)).all()
        assert "call_unanswered" in events and "voicemail" in events
    first, second = nurse_texts(twilio_fake, on_call(svc))
    assert "bladder" in first and url in second and f"case {case.id}" in second.lower()
    assert twilio_fake.violations == []


def test_nurse_whose_voicemail_answers_does_not_count_as_connected(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    reply = call.press("1")
    number = reply.one("Number")
    nurse_leg = Call(twilio, frm=CLINIC_NUMBER, sid="CA" + "f" * 32)
    screen = nurse_leg.post(number.get("url") or "")
    assert "Press 1 to talk to the patient" in screen.text and "fainting" in screen.text
    gather = screen.one("Gather")
    assert gather.get("input") == "dtmf" and gather.get("actionOnEmptyResult") == "true"
    # Nobody pressed 1: a voicemail greeting, or a nurse who declined.
    assert nurse_leg.post(gather.get("action") or "").verbs == ["Hangup"]
    after = call.dial_ends("completed", duration="30")
    assert after.has("Record")  # the caller is not left believing the nurse heard them


def test_the_nurse_pressing_1_is_put_through(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    number = call.press("1").one("Number")
    nurse_leg = Call(twilio, frm=CLINIC_NUMBER, sid="CA" + "a" * 32)
    nurse_leg.post(number.get("url") or "")
    gather_action = nurse_leg.reply.one("Gather").get("action")  # type: ignore[union-attr]
    response = twilio.signed_post(gather_action, {"CallSid": nurse_leg.sid, "Digits": "1"})
    assert list(ET.fromstring(response.get_data(as_text=True))) == []  # an empty response bridges the calls
    assert not call.dial_ends("completed", duration="200").has("Record")


# --- home care without the offer ----------------------------------------------------------------------------


@pytest.mark.parametrize("hidden", ["anonymous", "+266696687", "Restricted", ""])
def test_hidden_caller_id_gets_triage_but_no_texts(twilio: Twilio, twilio_fake, svc, hidden: str) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio, frm=hidden)
    call.start()
    outcome = call.answer_all(ALL_NO)
    assert "hidden" in outcome.text and TEXT_OFFER not in outcome.text
    bye = call.silence()
    assert "press 0" in bye.text  # asked once more, then goodbye
    bye = call.silence()
    assert bye.verbs[-1] == "Hangup" and "911" in bye.text
    assert twilio_fake.messages == []
    with svc.factory() as session:
        assert session.scalars(select(Patient.phone)).all() == [None]
        assert session.scalars(select(Checkin)).all() == []
    assert conversation_of(svc, call).disposition == "self_care"


def test_red_flag_from_a_hidden_number_still_pages_and_dials(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio, frm="anonymous")
    call.start()
    assert call.say("I fainted this morning").has("Dial")
    [page] = nurse_texts(twilio_fake, on_call(svc))
    assert "hidden number" in page


def test_a_patient_who_opted_out_of_texts_is_not_offered_them(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "STOP")
    sent = len(twilio_fake.messages)
    call = Call(twilio)
    call.start()
    outcome = call.answer_all(ALL_NO)
    assert outcome.one("Gather").get("action", "").count("at=closing") == 1
    call.press("1")
    assert len(twilio_fake.messages) == sent
    with svc.factory() as session:
        assert session.scalars(select(Checkin)).all() == []


def test_the_closing_prompt_still_reaches_a_nurse_and_hears_red_flags(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    call.answer_all(["2"] * 11)
    reply = call.press("1")  # lasting more than a week: seen within 3 days, the text offer follows
    assert reply.text.endswith(TEXT_OFFER)
    reply = call.say("actually now my legs went numb")
    assert reply.has("Dial") and conversation_of(svc, call).level == "ed_now"
    with svc.factory() as session:
        assert session.scalars(select(Message.status).where(Message.kind == "advice")).all() == ["declined"]


# --- the record, duplicates, bad input ------------------------------------------------------------------------


def test_a_repeated_callback_for_the_same_step_does_not_advance_twice(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    first = call.press("2")
    again = call.again()
    assert again.raw == first.raw
    assert conversation_of(svc, call).node == "q_bladder"
    with svc.factory() as session:
        answers = session.scalars(select(Message).where(Message.kind == "answer")).all()
        assert len(answers) == 1
    restart = call.start()  # even the incoming-call webhook twice: one conversation
    with svc.factory() as session:
        assert len(session.scalars(select(Conversation)).all()) == 1
    assert restart.said[0].startswith("Welcome")


def test_the_call_is_stored_like_an_sms_conversation(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi")
    call = Call(twilio)
    call.start()
    call.press("2")
    call.say("no I don't")
    with svc.factory() as session:
        [patient] = session.scalars(select(Patient)).all()  # one patient across both channels
        rows = session.scalars(select(Message).where(Message.patient_id == patient.id).order_by(Message.id)).all()
        voice = [(m.direction, m.kind, m.body) for m in rows if m.channel == "voice"]
        assert {m.channel for m in rows} == {"sms", "voice"}
    assert voice[0] == ("in", "call", "(incoming call)")
    assert voice[1][:2] == ("out", "prompt") and "Para español, oprima 2" in voice[1][2]
    assert voice[2] == ("in", "language", "(no answer)")
    assert voice[3][:2] == ("out", "prompt") and "Have you fainted" in voice[3][2]
    assert voice[4] == ("in", "answer", "pressed 2")
    assert voice[6] == ("in", "answer", "no I don't")
    assert conversation_of(svc, call).state["answers"] == {"q_faint": "no", "q_bladder": "no"}


@pytest.mark.parametrize("params", [
    {"Digits": "#"}, {"Digits": "12345"}, {"Digits": "abc"}, {"SpeechResult": ""},
    {"SpeechResult": "<Response><Hangup/></Response>"}, {"SpeechResult": "\x00\x1b[2J" * 50},
    {"SpeechResult": "yes", "Confidence": "not-a-number"}, {"SpeechResult": "x" * 5000},
])
def test_bad_input_gets_valid_twiml(twilio: Twilio, svc, params: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    reply = call.post(call._gather_action(), **params)
    assert reply.has("Gather") and reply.text.endswith(FAINT)


def test_callbacks_for_an_unknown_call_or_step_never_fail(twilio: Twilio) -> None:
    call = Call(twilio)
    assert call.post("/twilio/voice/answer?at=question&step=7", Digits="1").said[0].startswith("Welcome")
    lost = Call(twilio)
    assert lost.post("/twilio/voice/dial-status?case=99&step=3", DialCallStatus="no-answer").verbs[-1] == "Hangup"
    assert lost.post("/twilio/voice/voicemail?case=99", RecordingUrl="https://x").verbs[-1] == "Hangup"


def test_unsigned_voice_webhooks_are_refused(twilio: Twilio) -> None:
    params = {"CallSid": "CA" + "1" * 32, "From": PATIENT, "To": CLINIC_NUMBER}
    for path in ("/twilio/voice", "/twilio/voice/answer?at=question&step=1", "/twilio/voice/dial-status?case=1",
                 "/twilio/voice/voicemail?case=1", "/twilio/voice/screen?case=1"):
        assert twilio.client.post(path, data=params).status_code == 403
        assert twilio.signed_post(path, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    other = Twilio(twilio.client, token=AUTH_TOKEN + "x")
    assert other.signed_post("/twilio/voice", params).status_code == 403


# --- the same vignettes as SMS: the same dispositions ----------------------------------------------------------

VIGNETTES = [
    ("benign", ["no"] * 12, "home_care"),
    ("fainted", ["yes"], "call_911_now"),
    ("bladder", ["no", "yes"], "ed_now"),
    ("saddle", ["no", "no", "yes"], "ed_now"),
    ("legs", ["no", "no", "no", "yes"], "ed_now"),
    ("fever", ["no"] * 4 + ["yes"], "ed_now"),
    ("worsening", ["no"] * 5 + ["yes"], "ed_now"),
    ("major trauma", ["no"] * 6 + ["yes", "yes"], "ed_now"),
    ("minor fall, fragile bones", ["no"] * 6 + ["yes", "no", "yes"], "seen_today"),
    ("over 60, sudden", ["no"] * 7 + ["yes"], "seen_today"),
    ("daily life", ["no"] * 8 + ["yes"], "seen_today"),
    ("night pain", ["no"] * 9 + ["yes"], "seen_within_24h"),
    ("history", ["no"] * 10 + ["yes"], "seen_within_24h"),
    ("lasting", ["no"] * 11 + ["yes"], "seen_within_3_days"),
]
SPOKEN = {"yes": ["yes", "yeah", "yep, I have", "Yes."], "no": ["no", "nope", "no I don't", "nah"]}
KEYS = {"yes": "1", "no": "2"}


@pytest.mark.parametrize("name, answers, level", VIGNETTES, ids=[v[0] for v in VIGNETTES])
def test_vignettes_end_the_same_by_sms_keypad_and_speech(twilio: Twilio, svc, name: str, answers: list[str],  # type: ignore[no-untyped-def]
                                                         level: str) -> None:
    play(twilio, "hi", *answers, frm="+12125550150")
    keypad = Call(twilio, frm="+12125550151")
    keypad.start()
    keypad.answer_all([KEYS[a] for a in answers])
    spoken = Call(twilio, frm="+12125550152")
    spoken.start()
    for index, answer in enumerate(answers):
        spoken.say(SPOKEN[answer][index % len(SPOKEN[answer])])
    with svc.factory() as session:
        sms = session.scalars(select(Conversation).where(Conversation.channel == "sms")).one()
    results = {(c.level, c.disposition, c.outcome) for c in (sms, conversation_of(svc, keypad),
                                                              conversation_of(svc, spoken))}
    assert results == {(level, sms.disposition, sms.outcome)}


@pytest.mark.parametrize("words, level", [
    ("I can't control my bladder", "ed_now"),
    ("my legs went numb", "ed_now"),
    ("I was in a car accident yesterday and now my back is killing me", "ed_now"),
    ("I have a fever and chills", "ed_now"),
    ("I feel faint and my stomach pain is really bad", "call_911_now"),
])
def test_red_flag_phrases_end_the_same_spoken_as_texted(twilio: Twilio, svc, words: str, level: str) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi", "no", words, frm="+12125550160")
    call = Call(twilio, frm="+12125550161")
    call.start()
    call.say("no")
    assert call.say(words).has("Dial")
    with svc.factory() as session:
        sms = session.scalars(select(Conversation).where(Conversation.channel == "sms")).one()
    assert sms.level == conversation_of(svc, call).level == level


# --- the flow file: keypad rules ---------------------------------------------------------------------------------


def _flow_with(**changes: Any):  # type: ignore[no-untyped-def]
    flow = load_flow(FLOW).flow
    return flow.model_copy(update=changes)


def test_lint_requires_the_key_in_the_voice_option_text() -> None:
    flow = load_flow(FLOW).flow
    assert list(check_keypad(flow)) == []
    messages = flow.messages.model_copy(update={"voice_option": {"en": "Say {label}."}})
    [problem] = check_keypad(_flow_with(messages=messages))
    assert problem.path == ("messages", "voice_option") and "{key}" in problem.reason


def test_lint_requires_the_keypad_controls_to_be_announced() -> None:
    flow = load_flow(FLOW).flow
    messages = flow.messages.model_copy(update={"voice_controls": {"en": "Press 9 to hear the question again."}})
    [problem] = check_keypad(_flow_with(messages=messages))
    assert problem.path == ("messages", "voice_controls")


def test_lint_requires_free_text_questions_to_be_skippable_by_key() -> None:
    from service.engine.flow import Channels, FreeText

    flow = load_flow(FLOW).flow
    bare = FreeText(type="free", text={"en": "Tell us more about the pain."}, next="q_faint")
    spoken = bare.model_copy(update={"channels": Channels(voice={"en": "Tell us more, or press 1 to skip."})})
    screening = spoken.model_copy(update={"screening": True})
    nodes = {**flow.nodes, "f_bare": bare, "f_spoken": spoken, "f_screen": screening}
    problems = {p.path: p.reason for p in check_keypad(_flow_with(nodes=nodes))}
    assert set(problems) == {("nodes", "f_bare", "channels"), ("nodes", "f_screen", "screening")}


def test_lint_requires_911_in_an_outcome_s_voice_wording() -> None:
    from service.engine.flow import Channels

    flow = load_flow(FLOW).flow
    assert list(check_emergency_advice(flow)) == []
    quiet = flow.nodes["out_ed_now"].model_copy(update={"channels": Channels(voice={"en": "Go to the hospital."})})
    [problem] = check_emergency_advice(_flow_with(nodes={**flow.nodes, "out_ed_now": quiet}))
    assert problem.path == ("nodes", "out_ed_now", "channels", "voice")


def test_flows_check_passes_for_the_served_flow(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["flows", "check", str(FLOW)])
    assert result.exit_code == 0, result.output


# --- the terminal ---------------------------------------------------------------------------------------------------


def test_simulate_voice_plays_the_call_in_the_terminal(app) -> None:  # type: ignore[no-untyped-def]
    keys = "\n".join([""] + ["2"] * 12 + ["2"]) + "\n"  # no key at the language offer: English
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["simulate", "--voice"], input=keys)
    assert result.exit_code == 0, result.output
    assert "line says> At any time, press 9" in result.output
    assert "If Yes, press 1. If No, press 2." in result.output
    assert "[disposition: self_care / level: home_care / outcome: out_home_care]" in result.output


def test_simulate_voice_red_flag_with_voicemail(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["simulate", "--voice"], input="I fainted\nn\nplease call me back\n")
    assert result.exit_code == 0, result.output
    assert "Hang up now and call 911" in result.output and "[beep]" in result.output
    assert "The nurse will get your message" in result.output
    assert "disposition: emergency" in result.output


def test_voice_receipts_are_keyed_by_call_and_step(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    call.press("2")
    with svc.factory() as session:
        keys = session.scalars(select(WebhookReceipt.key)).all()
    assert sorted(keys) == sorted([f"voice:{call.sid}:start", f"voice:{call.sid}:language:1",
                                   f"voice:{call.sid}:question:2"])
    query = parse_qs(urlsplit(call.reply.one("Gather").get("action")).query)  # type: ignore[union-attr, arg-type]
    assert query["step"] == ["3"]


def test_a_failure_inside_still_gives_the_caller_911_advice_and_a_nurse(twilio: Twilio, svc, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.runtime import calls

    call = Call(twilio)
    call.start()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(calls, "call_input", broken)
    reply = call.press("2")
    assert "911" in reply.text and reply.one("Dial").text == on_call(svc)
    assert reply.verbs[-1] == "Hangup"


def test_a_caller_who_hangs_up_inside_the_screen_gets_a_nurse_callback(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    call.press("2")
    call.say("no")
    for _ in range(2):  # Twilio may send the status callback twice: one case, one page
        call.twilio.signed_post("/twilio/voice/status", {"CallSid": call.sid, "CallStatus": "completed",
                                                         "From": PATIENT, "CallDuration": "48"})
    conversation = conversation_of(svc, call)
    assert (conversation.outcome, conversation.disposition) == ("out_screen_incomplete", "nurse_callback")
    [page] = nurse_texts(twilio_fake, on_call(svc))
    assert page.startswith("Callback case") and "voice call" in page
    assert patient_texts(twilio_fake) == []
    with svc.factory() as session:
        assert session.scalars(select(Checkin)).all() == []
        assert "hung up" in session.scalars(select(Escalation.reason)).one()


def test_a_hang_up_before_any_answer_or_after_the_outcome_changes_nothing(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    early = Call(twilio, frm="+12125550170")
    early.start()
    status = {"CallStatus": "completed", "CallDuration": "9"}
    assert early.twilio.signed_post("/twilio/voice/status", {"CallSid": early.sid, **status}).status_code == 200
    finished = Call(twilio, frm="+12125550171")
    finished.start()
    finished.answer_all(ALL_NO)
    assert finished.twilio.signed_post("/twilio/voice/status", {"CallSid": finished.sid, **status}).status_code == 200
    assert conversation_of(svc, early).status == "active"
    assert conversation_of(svc, finished).disposition == "self_care"
    assert twilio_fake.messages == []


def test_a_spanish_speaking_patient_hears_the_call_in_spanish(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "ESPANOL")
    call = Call(twilio)
    first = call.start()
    gather = first.one("Gather")
    assert gather.get("language") == "es-US" and first.one("Say").get("language") == "es-US"
    assert "oprima 1" in first.text and "911" in first.text
    outcome = call.answer_all(ALL_NO)
    assert outcome.text.endswith("Para recibir estos consejos por mensaje de texto, oprima 1. Si no, oprima 2.")
    assert "Le estamos enviando" in call.say("sí, por favor").text
    advice = advice_text(twilio_fake)
    assert advice.startswith("Línea de enfermería de Test Spine Clinic") and "20 minutos" in advice


def test_the_same_callback_twice_at_once_advances_once(app, twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    call = Call(twilio)
    call.start()
    action = call._gather_action()
    barrier = Barrier(2)

    def press() -> str:
        racer = Twilio(app.test_client())
        form = {"CallSid": call.sid, "From": PATIENT, "To": CLINIC_NUMBER, "Digits": "2"}
        barrier.wait()
        return racer.signed_post(action, form).get_data(as_text=True)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda _: press(), range(2))
    assert first == second
    assert "bladder" in " ".join(say.text or "" for say in ET.fromstring(first).iter("Say"))
    with svc.factory() as session:
        assert len(session.scalars(select(Message).where(Message.kind == "answer")).all()) == 1
    assert conversation_of(svc, call).node == "q_bladder"


def test_what_a_caller_says_first_is_their_opening_not_a_miss(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    opening = call.say("hi, my back went into spasm lifting a box")
    assert "didn't understand" in opening.text and opening.text.endswith(FAINT)
    assert conversation_of(svc, call).state["misses"] == 0
    call.silence()
    assert "press 0" in call.silence().text  # two real misses: the nurse is offered, the caller still asked
    assert conversation_of(svc, call).node == "q_faint"
    for words in SPOKEN_NO:
        reply = call.say(words)
    assert conversation_of(svc, call).disposition == "self_care" and reply.text.endswith(TEXT_OFFER)


def test_requests_without_a_call_sid_never_join_another_call(twilio: Twilio, svc) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        response = twilio.signed_post("/twilio/voice", {"From": PATIENT, "To": CLINIC_NUMBER})
        assert response.status_code == 200
        assert [child.tag for child in ET.fromstring(response.get_data(as_text=True))] == ["Gather", "Redirect"]
    with svc.factory() as session:
        sids = session.scalars(select(Conversation.call_sid)).all()
    assert len(set(sids)) == 2
