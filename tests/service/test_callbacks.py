"""A nurse calls the patient back through the clinic number (issue #20, item 1): CALL by SMS or the dashboard
button rings the nurse's roster phone from the clinic number; the nurse hears the case and presses 1; the
patient is dialled with the clinic number as caller ID. Every leg is a signed webhook, driven here as Twilio
drives it, from the call the Twilio fake recorded; TwiML is parsed, never matched as text."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import timedelta
from itertools import count
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service import create_app
from service.models import AuditLog, Callback, Escalation, EscalationEvent, Message
from service.settings import Settings
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, NURSE_BLAKE, PATIENT, FakeClock, Twilio, play, services
from tests.dashboard_client import create_user, csrf_token, login
from tests.service.test_escalation_lifecycle import EMERGENCY
from tests.service.test_voices import JOANNA, LUPE

BASE = "http://localhost"  # PUBLIC_BASE_URL: what Twilio is given, and signs
PATIENTS = ("+12125550131", "+12125550132", PATIENT)  # case 3 is PATIENT's
_sids = count(1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, public_base_url=BASE)


class Leg:
    """One call as Twilio runs it: requests our webhooks, signed, with its CallSid, and reads the TwiML back."""

    def __init__(self, twilio: Twilio, sid: str, frm: str = CLINIC_NUMBER, to: str = NURSE_AVERY):
        self.twilio, self.sid, self.frm, self.to = twilio, sid, frm, to

    def post(self, url: str, **params: str) -> ET.Element:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        form = {"CallSid": self.sid, "AccountSid": "AC" + "0" * 32, "From": self.frm, "To": self.to,
                "Direction": "outbound-api", "CallStatus": "in-progress", "ApiVersion": "2010-04-01", **params}
        response = self.twilio.signed_post(path, form)
        assert response.status_code == 200 and response.mimetype == "application/xml", response.get_data(as_text=True)
        root = ET.fromstring(response.get_data(as_text=True))
        assert root.tag == "Response"
        return root


def said(root: ET.Element) -> str:
    return " ".join((say.text or "").strip() for say in root.iter("Say"))


def one(root: ET.Element, tag: str) -> ET.Element:
    [element] = list(root.iter(tag))
    return element


def three_cases(twilio: Twilio) -> None:
    """Three patients with red flags: cases 1, 2 and 3, each paged to Nurse Avery (primary on call)."""
    for phone in PATIENTS:
        play(twilio, EMERGENCY, frm=phone)


def case(svc, case_id: int) -> Escalation:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        found = session.get(Escalation, case_id)
        assert found is not None
        return found


def the_callback(svc) -> Callback:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Callback)).one()


def case_events(svc, case_id: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return [(e.event, e.detail) for e in session.scalars(
            select(EscalationEvent).where(EscalationEvent.escalation_id == case_id).order_by(EscalationEvent.id))]


def nurse_answers(twilio: Twilio, twilio_fake) -> tuple[Leg, ET.Element]:  # type: ignore[no-untyped-def]
    """The nurse's phone rings and they pick up: Twilio requests the call's URL."""
    [call] = twilio_fake.calls
    leg = Leg(twilio, call["sid"], to=call["to"])
    return leg, leg.post(call["url"])


def press(leg: Leg, root: ET.Element, digits: str) -> ET.Element:
    return leg.post(one(root, "Gather").get("action") or "", Digits=digits)


def patient_picks_up(twilio: Twilio, dial: ET.Element) -> ET.Element:
    number = one(dial, "Number")
    patient = Leg(twilio, f"CA{next(_sids):032x}", frm=CLINIC_NUMBER, to=number.text or "")
    return patient.post(number.get("url") or "")


def dial_ends(leg: Leg, dial_twiml: ET.Element, status: str, seconds: str = "0") -> ET.Element:
    return leg.post(one(dial_twiml, "Dial").get("action") or "", DialCallStatus=status, DialCallDuration=seconds,
                    DialCallSid=f"CA{next(_sids):032x}")


def call_ends(leg: Leg, twilio_fake, status: str, seconds: str) -> None:  # type: ignore[no-untyped-def]
    [call] = twilio_fake.calls
    form = {"CallSid": leg.sid, "AccountSid": "AC" + "0" * 32, "CallStatus": status, "CallDuration": seconds,
            "From": CLINIC_NUMBER, "To": leg.to}
    path = urlsplit(call["status_callback"])
    response = leg.twilio.signed_post(f"{path.path}?{path.query}", form)
    assert response.status_code == 200


# --- CALL by SMS ---------------------------------------------------------------------------------------------


def test_call_3_rings_the_nurse_once_from_the_clinic_number(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    three_cases(twilio)
    reply = twilio.sms("CALL 3", frm=NURSE_AVERY, sid="SM" + "c" * 32)
    assert reply.texts == ["Calling you at +1 212-555-0101 from the clinic number for case 3: answer, listen, and "
                           "press 1 to be put through to the patient."]
    [call] = twilio_fake.calls
    assert (call["to"], call["from_"]) == (NURSE_AVERY, CLINIC_NUMBER)
    assert call["url"] == f"{BASE}/twilio/callback/nurse?callback=1" and call["twiml"] is None
    assert call["status_callback"] == f"{BASE}/twilio/callback/status?callback=1"
    assert PATIENT not in str(call["form"])  # the patient is dialled from our TwiML, once the nurse is there

    assert twilio.sms("CALL 3", frm=NURSE_AVERY, sid="SM" + "c" * 32).texts == reply.texts  # Twilio's repeat
    assert twilio.sms("call 3", frm=NURSE_AVERY).texts == ["A call for case 3 is already under way."]
    assert len(twilio_fake.calls) == 1
    taken = case(svc, 3)
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", "Nurse Avery")  # calling takes the case
    assert case(svc, 1).status == "paged" and case(svc, 2).status == "paged"
    with svc.factory() as session:
        message = session.scalars(select(Message).where(Message.kind == "callback")).one()
        assert (message.status, message.twilio_sid, message.to_phone) == ("sent", call["sid"], NURSE_AVERY)
    assert [name for name, _ in case_events(svc, 3)][-2:] == ["acknowledged", "callback_requested"]
    assert twilio_fake.violations == []


def test_the_whisper_then_1_dials_the_patient_with_the_clinic_number_and_the_talk_is_timed(
        twilio: Twilio, twilio_fake, svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    three_cases(twilio)
    opened = case(svc, 3).created_at
    twilio.sms("CALL 3", frm=NURSE_AVERY)
    clock.advance(seconds=20)
    leg, whisper = nurse_answers(twilio, twilio_fake)
    gather = one(whisper, "Gather")
    assert (gather.get("input"), gather.get("numDigits"), gather.get("actionOnEmptyResult")) == ("dtmf", "1", "true")
    words = said(whisper)
    assert words.startswith("Test Spine Clinic nurse line. Callback for case 3, ED NOW: loss of bladder or bowel "
                            "control, or cannot pass urine. Press 1 to call the patient now from the clinic number.")
    assert words.count("Press 1") == 2 and "Spanish" not in words  # said twice; an English-speaking patient

    dial_twiml = press(leg, whisper, "1")
    assert said(dial_twiml) == "Calling the patient now."
    dial = one(dial_twiml, "Dial")
    assert dial.get("callerId") == CLINIC_NUMBER  # the patient sees the clinic, never the nurse's number
    number = one(dial, "Number")
    assert number.text == PATIENT and NURSE_AVERY not in ET.tostring(dial_twiml, encoding="unicode")
    clock.advance(seconds=15)
    hello = patient_picks_up(twilio, dial_twiml)
    assert said(hello) == ("Hello, this is the Test Spine Clinic nurse line calling you back. Connecting you to "
                           "your nurse now.")
    assert [child.tag for child in hello] == ["Say"]  # then Twilio connects the two calls
    answered = clock.now

    clock.advance(minutes=2)
    bye = dial_ends(leg, dial_twiml, "completed", "125")
    assert said(bye) == "The call with the patient has ended. Goodbye." and bye[-1].tag == "Hangup"
    call_ends(leg, twilio_fake, "completed", "170")

    reached = case(svc, 3)
    assert (reached.first_contact_at, reached.first_contact_via) == (answered, "voice")  # when the patient answered
    assert answered - opened == timedelta(seconds=35)
    callback = the_callback(svc)
    assert (callback.status, callback.outcome, callback.talk_seconds) == ("ended", "talked", 125)
    events = case_events(svc, 3)
    names = [name for name, _ in events]
    assert names[-5:] == ["callback_requested", "callback_nurse_answered", "callback_dialling", "callback_connected",
                          "callback_ended"]
    assert ("callback_connected", "callback 1: talked 2 min 05 s") in events
    assert ("callback_ended", "callback 1: talked with the patient; nurse's call completed, 2 min 50 s") in events
    assert len(twilio_fake.calls) == 1 and twilio_fake.violations == []


def test_a_repeated_leg_answers_the_same_and_dials_once(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    three_cases(twilio)
    twilio.sms("CALL 3", frm=NURSE_AVERY)
    leg, whisper = nurse_answers(twilio, twilio_fake)
    first = press(leg, whisper, "1")
    again = press(leg, whisper, "1")
    assert ET.tostring(first) == ET.tostring(again)
    assert [name for name, _ in case_events(svc, 3)].count("callback_dialling") == 1


def test_spanish_speaking_patient_is_noted_and_hears_spanish_and_no_answer_is_reported(
        twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "no puedo controlar la vejiga")  # case 1, a Spanish-speaking patient
    assert twilio.sms("CALL", frm=NURSE_AVERY).texts[0].startswith("Calling you at")  # plain CALL: the latest case
    leg, whisper = nurse_answers(twilio, twilio_fake)
    assert "Callback for case 1, ED NOW" in said(whisper) and "Spanish-speaking patient." in said(whisper)
    dial_twiml = press(leg, whisper, "1")
    hello = patient_picks_up(twilio, dial_twiml)  # a voicemail greeting, say: then the dial reports no answer
    assert one(hello, "Say").get("language") == "es-US" and said(hello).startswith("Hola, le llama la línea")

    offer = dial_ends(leg, dial_twiml, "no-answer")
    assert said(offer) == ("The patient did not answer. To text them that a nurse tried to call, press 1. "
                           "Otherwise, hang up.")
    assert one(offer, "Gather").get("action") == "/twilio/callback/text-offer?callback=1"
    told = [m["body"] for m in twilio_fake.messages if m["to"] == NURSE_AVERY][-1]
    assert told == ("Case 1: the patient did not answer your call. Reply MSG 1 <text> to text them instead, or "
                    "CALL 1 to try again.")
    done = press(leg, offer, "1")
    assert said(done) == "Done: the patient has been texted that you tried to call. Goodbye."
    text = [m for m in twilio_fake.messages if m["to"] == PATIENT][-1]
    assert text["from_"] == CLINIC_NUMBER
    assert text["body"] == ("Una enfermera de Test Spine Clinic le quiso llamar. Responda a este mensaje o llame al "
                            "+12125550100. Si es una emergencia, llame al 911.")
    call_ends(leg, twilio_fake, "completed", "41")
    missed = case(svc, 1)
    assert missed.first_contact_at is None  # no one reached the patient
    names = [name for name, _ in case_events(svc, 1)]
    assert "callback_patient_no_answer" in names and "callback_texted" in names
    assert the_callback(svc).outcome == "patient_no_answer"
    assert twilio.sms("CALL 1", frm=NURSE_AVERY).texts[0].startswith("Calling you at")  # over: may try again
    assert len(twilio_fake.calls) == 2 and twilio_fake.violations == []


def test_callback_legs_speak_in_the_configured_voices(settings: Settings, clock: FakeClock,
                                                     twilio_fake) -> None:  # type: ignore[no-untyped-def]
    """VOICE_EN / VOICE_ES as on the patient's own calls: the nurse's legs in English, the patient's in theirs."""
    app = create_app(dataclasses.replace(settings, voice_en=JOANNA, voice_es=LUPE), clock=clock)
    try:
        twilio = Twilio(app.test_client())
        play(twilio, "no puedo controlar la vejiga")  # case 1, a Spanish-speaking patient
        twilio.sms("CALL 1", frm=NURSE_AVERY)
        leg, whisper = nurse_answers(twilio, twilio_fake)
        dial_twiml = press(leg, whisper, "1")
        hello = patient_picks_up(twilio, dial_twiml)
        offer = dial_ends(leg, dial_twiml, "no-answer")
        done = press(leg, offer, "1")
        for nurse_heard in (whisper, dial_twiml, offer, done):
            assert voices(nurse_heard) == {("en-US", JOANNA)}, ET.tostring(nurse_heard)
        assert voices(hello) == {("es-US", LUPE)} and said(hello).startswith("Hola")
    finally:
        services(app).shutdown()
        services(app).engine.dispose()


def voices(root: ET.Element) -> set[tuple[str | None, str | None]]:
    """(language, voice) of each <Say>."""
    return {(say.get("language"), say.get("voice")) for say in root.iter("Say")}


def test_no_key_pressed_calls_nobody(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    twilio.sms("CALL 1", frm=NURSE_AVERY)
    leg, whisper = nurse_answers(twilio, twilio_fake)
    ended = press(leg, whisper, "")  # the Gather timed out (a voicemail greeting answered the nurse's phone)
    assert said(ended) == "No key was pressed, so the patient was not called. Goodbye." and not list(ended.iter("Dial"))
    assert the_callback(svc).outcome == "not_connected"


def test_the_nurse_not_answering_ends_the_attempt(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    twilio.sms("CALL 1", frm=NURSE_AVERY)
    [call] = twilio_fake.calls
    call_ends(Leg(twilio, call["sid"]), twilio_fake, "no-answer", "0")
    assert the_callback(svc).outcome == "nurse_no_answer"
    assert ("callback_ended", "callback 1: the nurse's phone did not answer; nurse's call no-answer, 0 s") in \
        case_events(svc, 1)


def test_an_attempt_never_heard_of_again_does_not_block_the_next(twilio: Twilio, twilio_fake, svc,
                                                                clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    twilio.sms("CALL 1", frm=NURSE_AVERY)
    clock.advance(minutes=2)
    assert twilio.sms("CALL 1", frm=NURSE_AVERY).texts == ["A call for case 1 is already under way."]
    clock.advance(minutes=2)  # no webhook ever came for it (the nurse's phone off, a status callback lost)
    assert twilio.sms("CALL 1", frm=NURSE_AVERY).texts[0].startswith("Calling you at")
    with svc.factory() as session:
        first, second = session.scalars(select(Callback).order_by(Callback.id)).all()
    assert (first.outcome, second.status) == ("no_word", "queued") and len(twilio_fake.calls) == 2


def test_a_call_that_cannot_be_placed_tells_the_nurse(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    twilio_fake.error_next(1, code=21211, operation="CreateCall")  # invalid 'To' number: no retry will help
    twilio.sms("CALL 1", frm=NURSE_AVERY)
    assert twilio_fake.calls == [] and the_callback(svc).outcome == "failed"
    with svc.factory() as session:
        note = session.scalars(select(Message).where(Message.kind == "callback_note")).one()
    assert note.body == "Case 1: the call to your phone could not be placed. Reply CALL 1 to try again."


# --- refusals ------------------------------------------------------------------------------------------------


def test_call_for_someone_elses_case_is_refused(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    twilio.sms("ACK 1", frm=NURSE_BLAKE)
    assert twilio.sms("CALL 1", frm=NURSE_AVERY).texts == ["Case 1 belongs to another nurse (Nurse Blake)."]
    assert twilio.sms("CALL", frm=NURSE_AVERY).texts == ["No open case of yours to call about. Reply CALL <case>."]
    assert twilio.sms("CALL 9", frm=NURSE_AVERY).texts == ["There is no case 9."]
    assert twilio_fake.calls == []
    with svc.factory() as session:
        assert session.scalars(select(Callback)).all() == []


def test_a_patient_texting_call_is_triaged_as_a_patient(twilio: Twilio, twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY, frm=PATIENTS[0])
    [reply] = play(twilio, "CALL 1")
    assert "Have you fainted" in reply.text  # the first screening question: a patient, not a command
    assert twilio_fake.calls == []
    assert case(svc, 1).status == "paged"


def test_unsigned_callback_webhooks_are_refused(twilio: Twilio) -> None:
    for path in ("nurse", "pressed", "patient", "dialled", "text-offer", "status"):
        response = twilio.client.post(f"/twilio/callback/{path}?callback=1", data={"CallSid": "CA" + "0" * 32})
        assert response.status_code == 403, path


# --- the dashboard button ------------------------------------------------------------------------------------


@pytest.fixture
def avery(app: Flask) -> FlaskClient:
    for username, name in (("avery", "Nurse Avery"), ("robin", "Robin Temp")):  # robin: not on the roster
        assert create_user(app, username, "nurse", name).exit_code == 0
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def test_the_dashboard_button_rings_the_signed_in_nurses_roster_phone(app: Flask, avery: FlaskClient, twilio: Twilio,
                                                                      twilio_fake, svc) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    page = avery.get("/dashboard/cases/1").get_data(as_text=True)
    assert 'id="call-patient"' in page
    done = avery.post("/dashboard/cases/1/call", data={"csrf_token": csrf_token(avery, "/dashboard/cases/1")},
                      follow_redirects=True).get_data(as_text=True)
    assert "Calling you at +1 212-555-0101 from the clinic number for case 1" in done
    [call] = twilio_fake.calls
    assert (call["to"], call["from_"], call["url"]) == (NURSE_AVERY, CLINIC_NUMBER,
                                                        f"{BASE}/twilio/callback/nurse?callback=1")
    assert (case(svc, 1).acknowledged_by, the_callback(svc).requested_by) == ("avery", "avery")
    with svc.factory() as session:
        assert "call_patient" in session.scalars(select(AuditLog.action).where(AuditLog.username == "avery")).all()
    leg, whisper = nurse_answers(twilio, twilio_fake)
    dial_twiml = press(leg, whisper, "1")
    patient_picks_up(twilio, dial_twiml)
    dial_ends(leg, dial_twiml, "completed", "61")
    shown = avery.get("/dashboard/cases/1").get_data(as_text=True)
    assert "talked with the patient (1 min 01 s)" in shown and "by phone" in shown

    robin = app.test_client()
    assert login(robin, "robin").status_code == 302
    refused = robin.post("/dashboard/cases/1/call", data={"csrf_token": csrf_token(robin, "/dashboard/cases/1")},
                         follow_redirects=True).get_data(as_text=True)
    assert "Case 1 belongs to another nurse" in refused
    assert len(twilio_fake.calls) == 1 and twilio_fake.violations == []


def test_a_dashboard_user_without_a_roster_phone_is_told_why(app: Flask, avery: FlaskClient, twilio: Twilio,
                                                             twilio_fake) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY)
    robin = app.test_client()
    assert login(robin, "robin").status_code == 302
    refused = robin.post("/dashboard/cases/1/call", data={"csrf_token": csrf_token(robin, "/dashboard/cases/1")},
                         follow_redirects=True).get_data(as_text=True)
    assert "Your account is not linked to a roster nurse" in refused
    assert twilio_fake.calls == []
