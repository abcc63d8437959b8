"""Twilio's Advanced Opt-Out: Twilio answers STOP, START and HELP itself and sends OptOutType with the
webhook. The opt-out is recorded here, but no second confirmation goes out (FCC 2024: one confirmation)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from service.models import Patient
from service.services import Services
from service.settings import Settings
from tests.conftest import PATIENT, Twilio


@pytest.fixture
def settings(settings: Settings) -> Settings:  # type: ignore[override]
    return replace(settings, advanced_opt_out=True)


def opted_out(svc: Services) -> bool:
    with svc.factory() as session:
        return session.scalars(select(Patient).where(Patient.phone == PATIENT)).one().opted_out


def test_stop_answered_by_twilio_is_recorded_and_not_confirmed_twice(twilio: Twilio, svc: Services) -> None:
    twilio.sms("hi")
    reply = twilio.sms("STOP", OptOutType="STOP")
    assert reply.status == 200 and reply.texts == []  # valid TwiML, no <Message>: Twilio sent its own
    assert opted_out(svc)
    again = twilio.sms("START", OptOutType="START")
    assert again.texts == [] and not opted_out(svc)


def test_help_answered_by_twilio_still_begins_the_triage(twilio: Twilio) -> None:
    reply = twilio.sms("HELP", OptOutType="HELP")
    assert "Msg & data rates" not in reply.text  # Twilio's HELP reply went out already
    assert "Have you fainted" in reply.text  # but a patient who texts HELP may be in trouble: the screen starts


def test_stop_in_words_is_still_honoured_with_our_one_confirmation(twilio: Twilio, svc: Services) -> None:
    twilio.sms("hi")
    reply = twilio.sms("stop texting me")  # not a Twilio keyword: no OptOutType, so ours is the only one
    assert "unsubscribed" in reply.text and opted_out(svc)

