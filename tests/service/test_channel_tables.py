"""Table tests for the channel adapters (#17 item 4): a Twilio form becomes a neutral input, and a neutral turn
becomes TwiML. Each row is one case; the TwiML is built by the real twilio library and read back with
xml.etree, so a row compares the verbs, their attributes and what is said, not the bytes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask

from service.callbacks.attempts import CONNECT, DIAL, HANGUP, OFFER, PRESS, Step
from service.channels import callback_voice, voice
from service.channels.sms import InboundSms, messages_twiml, read_inbound
from service.channels.voice import caller_phone, heard_from
from service.engine.phone_turns import CLOSING, GATHER, LANGUAGE, QUESTION, RECORD, Heard, VoiceTurn
from service.engine.phone_turns import DIAL as VOICE_DIAL
from service.media import Media
from service.settings import Settings
from tests.conftest import CLINIC_NUMBER

SID = "SM" + "0123456789abcdef" * 2
MEDIA = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1"

# --- a Twilio form -> the neutral input --------------------------------------------------------------

SMS_FORMS = [
    ("plain SMS", {"From": "+12125551234", "Body": "my back hurts", "MessageSid": SID},
     InboundSms("+12125551234", "my back hurts", SID, "", ())),
    ("national number read in the clinic's region", {"From": "(212) 555-1234", "Body": "hi", "MessageSid": SID},
     InboundSms("+12125551234", "hi", SID, "", ())),
    ("WhatsApp: the same patient as their number, on their channel",
     {"From": "whatsapp:+12125551234", "Body": "hola", "MessageSid": SID},
     InboundSms("+12125551234", "hola", SID, "", (), channel="whatsapp")),
    ("MMS: one photo kept, content type lower case; a non-http link dropped",
     {"From": "+12125551234", "Body": "", "MessageSid": "MM1", "NumMedia": "2", "MediaUrl0": MEDIA,
      "MediaContentType0": "Image/JPEG", "MediaUrl1": "ftp://example.com/x.png", "MediaContentType1": "image/png"},
     InboundSms("+12125551234", "", "MM1", "", (Media(0, MEDIA, "image/jpeg"),))),
    ("MMS without a content type", {"From": "+12125551234", "NumMedia": "1", "MediaUrl0": MEDIA},
     InboundSms("+12125551234", "", None, "", (Media(0, MEDIA, "application/octet-stream"),))),
    ("NumMedia not a number: no media, no error", {"From": "+12125551234", "NumMedia": "two", "MediaUrl0": MEDIA},
     InboundSms("+12125551234", "", None, "", ())),
    ("NumMedia negative", {"From": "+12125551234", "NumMedia": "-3", "MediaUrl0": MEDIA},
     InboundSms("+12125551234", "", None, "", ())),
    ("every field missing", {}, InboundSms(None, "", None, "", ())),
    ("SmsSid when MessageSid is absent", {"From": "+12125551234", "Body": "x", "SmsSid": SID},
     InboundSms("+12125551234", "x", SID, "", ())),
    ("Advanced Opt-Out's OptOutType, any case and padding", {"From": "+12125551234", "Body": "stop",
                                                             "OptOutType": " STOP "},
     InboundSms("+12125551234", "stop", None, "stop", ())),
    ("a From that is no phone number", {"From": "not a number", "Body": "x"}, InboundSms(None, "x", None, "", ())),
    ("NUL and control bytes dropped (Postgres refuses NUL), accents and emoji kept",
     {"From": "+12125551234", "Body": "a\x00b\x07 dolor de espalda, sí 😣", "MessageSid": "SM\x00abc"},
     InboundSms("+12125551234", "ab dolor de espalda, sí 😣", "SMabc", "", ())),
    ("a combining accent and GSM-7 extension characters kept as sent",
     {"From": "+12125551234", "Body": "nin\u0303o [5] ~ €"},
     InboundSms("+12125551234", "nin\u0303o [5] ~ €", None, "", ())),
]


@pytest.mark.parametrize("form, expected", [row[1:] for row in SMS_FORMS], ids=[row[0] for row in SMS_FORMS])
def test_an_sms_form_becomes_a_neutral_input(form: dict[str, str], expected: InboundSms) -> None:
    assert read_inbound(form, "US") == expected


def test_a_body_past_the_stored_limit_is_cut_not_refused() -> None:
    inbound = read_inbound({"From": "+12125551234", "Body": "x" * 5000}, "US")
    assert inbound.text == "x" * 2000


GATHER_FORMS = [
    ("a key", {"Digits": "1"}, Heard(digits="1")),
    ("a key with padding", {"Digits": " 9 "}, Heard(digits="9")),
    ("star and hash", {"Digits": "*#"}, Heard(digits="*#")),
    ("not keys: not heard", {"Digits": "1a"}, Heard()),
    ("speech with its confidence", {"SpeechResult": " yes please ", "Confidence": "0.91"},
     Heard(speech="yes please", confidence=0.91)),
    ("speech with a confidence that is no number: taken as unsure", {"SpeechResult": "no", "Confidence": "abc"},
     Heard(speech="no", confidence=0.0)),
    ("speech without a confidence", {"SpeechResult": "sí"}, Heard(speech="sí")),
    ("speech with a NUL byte", {"SpeechResult": "chest\x00 pain"}, Heard(speech="chest pain")),
    ("nothing at all (the Gather timed out)", {}, Heard()),
    ("empty strings", {"Digits": "", "SpeechResult": "", "Confidence": ""}, Heard()),
]


@pytest.mark.parametrize("form, expected", [row[1:] for row in GATHER_FORMS], ids=[row[0] for row in GATHER_FORMS])
def test_a_gather_result_becomes_what_was_heard(form: dict[str, str], expected: Heard) -> None:
    assert heard_from(form.get("Digits"), form.get("SpeechResult"), form.get("Confidence")) == expected


@pytest.mark.parametrize("raw, expected", [
    ("+12125551234", "+12125551234"),
    ("2125551234", "+12125551234"),
    ("+266696687", None),  # Twilio's "anonymous" caller ids look like numbers: the caller is hidden
    ("+7378742833", None),
    ("anonymous", None),
    ("", None),
    (None, None),
])
def test_a_caller_id_becomes_a_number_or_none(raw: str | None, expected: str | None) -> None:
    assert caller_phone(raw, "US") == expected


# --- a neutral turn -> TwiML --------------------------------------------------------------------------

def tree(xml: str | bytes) -> tuple[Any, ...]:
    """TwiML as nested (tag, attributes, text, children), whitespace-insensitive: what a row compares."""

    def node(element: ET.Element) -> tuple[Any, ...]:
        return (element.tag, dict(element.attrib), (element.text or "").strip(), [node(c) for c in element])

    return node(ET.fromstring(xml))


def test_replies_become_one_message_per_text(app: Flask) -> None:
    svc = app.extensions["triage"]
    with app.test_request_context():
        assert tree(messages_twiml(svc, []).get_data()) == ("Response", {}, "", [])
        joined = tree(messages_twiml(svc, ["Hello.", "Reply 1 or 2."]).get_data())
        long = tree(messages_twiml(svc, ["a " * 300 + "end.", "b " * 300 + "end."]).get_data())
        response = messages_twiml(svc, ["Hello."])
    assert response.mimetype == "application/xml"
    assert joined == ("Response", {}, "", [("Message", {}, "Hello.\n\nReply 1 or 2.", [])])  # short: one text
    assert [child[2] for child in long[3]] == ["a " * 299 + "a end.", "b " * 299 + "b end."]  # long: one each


VOICE_TURNS = [
    ("a question: Gather of keys or speech, then a redirect to the same action (never silence)",
     VoiceTurn(("Do you have a fever?", "Press 1 for yes, 2 for no."), GATHER, QUESTION, step=3, hints=("yes", "no")),
     ("Response", {}, "", [
         ("Gather", {"input": "dtmf speech", "action": "/twilio/voice/answer?at=question&step=3&tries=0",
                     "method": "POST", "numDigits": "1", "timeout": "6", "speechTimeout": "auto",
                     "actionOnEmptyResult": "true", "language": "en-US", "hints": "yes, no"},
          "", [("Say", {"language": "en-US"}, "Do you have a fever? Press 1 for yes, 2 for no.", [])]),
         ("Redirect", {"method": "POST"}, "/twilio/voice/answer?at=question&step=3&tries=0", [])])),
    ("a Spanish closing prompt: recognised and said in Spanish, with its tries",
     VoiceTurn(("¿Algo más?",), GATHER, CLOSING, step=5, tries=1, language="es"),
     ("Response", {}, "", [
         ("Gather", {"input": "dtmf speech", "action": "/twilio/voice/answer?at=closing&step=5&tries=1",
                     "method": "POST", "numDigits": "1", "timeout": "6", "speechTimeout": "auto",
                     "actionOnEmptyResult": "true", "language": "es-US"},
          "", [("Say", {"language": "es-US"}, "¿Algo más?", [])]),
         ("Redirect", {"method": "POST"}, "/twilio/voice/answer?at=closing&step=5&tries=1", [])])),
    ("the language offer: each sentence in its own language's voice, a shorter wait",
     VoiceTurn(("For English, stay on the line.", "Para español, oprima 2."), GATHER, LANGUAGE, step=1,
               voices=("en", "es")),
     ("Response", {}, "", [
         ("Gather", {"input": "dtmf speech", "action": "/twilio/voice/answer?at=language&step=1&tries=0",
                     "method": "POST", "numDigits": "1", "timeout": "4", "speechTimeout": "auto",
                     "actionOnEmptyResult": "true", "language": "en-US"},
          "", [("Say", {"language": "en-US"}, "For English, stay on the line.", []),
               ("Say", {"language": "es-US"}, "Para español, oprima 2.", [])]),
         ("Redirect", {"method": "POST"}, "/twilio/voice/answer?at=language&step=1&tries=0", [])])),
    ("advice, then hang up",
     VoiceTurn(("Rest and use heat.", "Goodbye."), language="en"),
     ("Response", {}, "", [("Say", {"language": "en-US"}, "Rest and use heat. Goodbye.", []),
                           ("Hangup", {}, "", [])])),
    ("put through to the nurse: Dial from the clinic number, the nurse screened first",
     VoiceTurn(("Connecting you to a nurse.",), VOICE_DIAL, step=4, case_id=7, nurse_phone="+12125550001"),
     ("Response", {}, "", [
         ("Say", {"language": "en-US"}, "Connecting you to a nurse.", []),
         ("Dial", {"action": "/twilio/voice/dial-status?case=7&step=4", "method": "POST", "timeout": "20",
                   "callerId": CLINIC_NUMBER},
          "", [("Number", {"url": "/twilio/voice/screen?case=7&call=CA1", "method": "POST"}, "+12125550001", [])])])),
    ("voicemail for the nurse, and what is said when nothing was recorded",
     VoiceTurn(("Leave a message after the tone.",), RECORD, case_id=7, finally_say=("No message. Call 911.",)),
     ("Response", {}, "", [
         ("Say", {"language": "en-US"}, "Leave a message after the tone.", []),
         ("Record", {"action": "/twilio/voice/voicemail?case=7", "method": "POST", "maxLength": "120",
                     "finishOnKey": "#", "playBeep": "true", "timeout": "5"}, "", []),
         ("Say", {"language": "en-US"}, "No message. Call 911.", []),
         ("Hangup", {}, "", [])])),
    ("nothing to say: still a valid answer that hangs up", VoiceTurn(()),
     ("Response", {}, "", [("Hangup", {}, "", [])])),
]


@pytest.mark.parametrize("turn, expected", [row[1:] for row in VOICE_TURNS], ids=[row[0] for row in VOICE_TURNS])
def test_a_voice_turn_becomes_twiml(app: Flask, turn: VoiceTurn, expected: tuple[Any, ...]) -> None:
    with app.test_request_context():
        assert tree(voice.render(turn, "CA1")) == expected


CALLBACK_STEPS = [
    ("the whisper: said twice inside a one-key Gather, then hang up",
     Step("Case 7, ED now. Press 1.", PRESS),
     ("Response", {}, "", [
         ("Gather", {"input": "dtmf", "numDigits": "1", "action": "/twilio/callback/pressed?callback=9",
                     "method": "POST", "actionOnEmptyResult": "true", "timeout": "10"},
          "", [("Say", {"language": "en-US"}, "Case 7, ED now. Press 1. Case 7, ED now. Press 1.", [])]),
         ("Hangup", {}, "", [])])),
    ("the text offer after no answer: said once",
     Step("No answer. Press 1 to text them.", OFFER),
     ("Response", {}, "", [
         ("Gather", {"input": "dtmf", "numDigits": "1", "action": "/twilio/callback/text-offer?callback=9",
                     "method": "POST", "actionOnEmptyResult": "true", "timeout": "8"},
          "", [("Say", {"language": "en-US"}, "No answer. Press 1 to text them.", [])]),
         ("Hangup", {}, "", [])])),
    ("dial the patient from the clinic number",
     Step("Calling the patient.", DIAL, dial="+12125551234"),
     ("Response", {}, "", [
         ("Say", {"language": "en-US"}, "Calling the patient.", []),
         ("Dial", {"callerId": "+15005550006", "action": "/twilio/callback/dialled?callback=9", "method": "POST",
                   "timeout": "25"},
          "", [("Number", {"url": "/twilio/callback/patient?callback=9", "method": "POST"}, "+12125551234", [])])])),
    ("the patient's leg, in their language, then connected",
     Step("Una enfermera le llama.", CONNECT, language="es"),
     ("Response", {}, "", [("Say", {"language": "es-US"}, "Una enfermera le llama.", [])])),
    ("the end: said, then hang up", Step("The case is resolved.", HANGUP),
     ("Response", {}, "", [("Say", {"language": "en-US"}, "The case is resolved.", []), ("Hangup", {}, "", [])])),
    ("the end with nothing to say", Step("", HANGUP), ("Response", {}, "", [("Hangup", {}, "", [])])),
]


@pytest.mark.parametrize("step, expected", [row[1:] for row in CALLBACK_STEPS], ids=[row[0] for row in CALLBACK_STEPS])
def test_a_callback_step_becomes_twiml(settings: Settings, step: Step, expected: tuple[Any, ...]) -> None:
    assert tree(callback_voice.render(step, 9, "+15005550006", settings)) == expected  # no voices set


def test_a_status_callback_is_answered_with_an_empty_response() -> None:
    assert tree(callback_voice.nothing()) == ("Response", {}, "", [])
