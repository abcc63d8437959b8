"""VOICE_EN, VOICE_ES and VOICE_INPUT_TIMEOUT: every <Say> in the voice of its language, every question's
<Gather> waiting as long as the clinic set (relay and TTY callers type their answers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from service import create_app
from service.outbox.transports import call_twiml
from service.settings import Settings
from tests.conftest import FakeClock, Twilio, services
from tests.process.test_faults_process import APP_NAME, POSTGRES, database_down
from tests.service.test_voice import Call, VoiceReply

JOANNA, LUPE = "Polly.Joanna-Neural", "Polly.Lupe-Neural"
VOICES = {"en-US": JOANNA, "es-US": LUPE}


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    # On Postgres the outage ends the connections named so (tests/process/test_faults_process.py, database_down).
    url = f"{settings.database_url}&application_name={APP_NAME}" if POSTGRES else settings.database_url
    voices = replace(settings, database_url=url, voice_en=JOANNA, voice_es=LUPE, voice_input_timeout=15)
    application = create_app(voices, clock=clock)
    yield application
    services(application).shutdown()
    services(application).engine.dispose()


def voiced(reply: VoiceReply) -> list[tuple[str, str | None]]:
    """(language, voice) of every <Say>; each must be in the voice set for its language."""
    found = [(say.get("language") or "", say.get("voice")) for say in reply.root.iter("Say")]
    assert found and all(voice == VOICES[language] for language, voice in found), reply.raw
    return found


def test_every_say_of_a_call_is_in_its_languages_voice(twilio: Twilio) -> None:
    call = Call(twilio)
    offer = call.ring()
    assert voiced(offer) == [("en-US", JOANNA), ("es-US", LUPE)]  # the greeting, then "Para español, oprima 2"
    assert offer.one("Gather").get("timeout") == "13"  # the language offer waits 2 s less than a question
    question = call.silence()
    assert set(voiced(question)) == {("en-US", JOANNA)}
    assert question.one("Gather").get("timeout") == "15"
    reply = call.press("1")  # fainting: put through to the nurse
    assert set(voiced(reply)) == {("en-US", JOANNA)} and reply.has("Dial")

    spanish = Call(twilio, frm="+12125550166")
    spanish.ring()
    first = spanish.press("2")
    assert set(voiced(first)) == {("es-US", LUPE)} and first.one("Gather").get("language") == "es-US"
    assert first.one("Gather").get("timeout") == "15"


def test_the_nurse_screen_and_the_alert_calls_speak_in_the_english_voice(twilio: Twilio) -> None:
    call = Call(twilio)
    call.start()
    number = call.press("1").one("Number")
    nurse_leg = Call(twilio, frm="+12125550101", sid="CA" + "f" * 32)
    assert set(voiced(nurse_leg.post(number.get("url") or ""))) == {("en-US", JOANNA)}
    assert f'voice="{JOANNA}"' in call_twiml("Page for case 1.", JOANNA)
    assert "voice=" not in call_twiml("Page for case 1.")  # none set: Twilio's default


def test_the_outage_answer_speaks_in_the_voices_too(twilio: Twilio, app: Flask) -> None:
    svc = services(app)
    with database_down(svc):
        reply = Call(twilio, frm="+12125550155").ring()
    assert voiced(reply) == [("en-US", JOANNA), ("es-US", LUPE)] * 2  # before and after the dial
    assert not reply.has("Gather")  # nothing is asked while the line is down


def test_without_the_settings_twilio_chooses_and_questions_wait_6_seconds(settings: Settings,
                                                                          clock: FakeClock) -> None:
    application = create_app(settings, clock=clock)
    try:
        call = Call(Twilio(application.test_client()))
        offer = call.ring()
        assert all(say.get("voice") is None for say in offer.root.iter("Say"))
        assert offer.one("Gather").get("timeout") == "4"
        assert call.silence().one("Gather").get("timeout") == "6"
    finally:
        services(application).shutdown()
        services(application).engine.dispose()
