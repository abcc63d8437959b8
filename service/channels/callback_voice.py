"""TwiML for a nurse's callback (callbacks/): each leg's Step as Twilio's voice verbs. The legs' webhooks
(callbacks/webhooks.py) decide the Step; this module only speaks Twilio."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from ..callbacks.attempts import CONNECT, DIAL, DIALLED, OFFER, PATIENT_LEG, PRESS, PRESSED, TEXT_OFFER, Step
from ..settings import Settings
from .voice import say_in

PRESS_TIMEOUT = 10  # seconds the nurse has to press 1 after the whisper
OFFER_TIMEOUT = 8
DIAL_TIMEOUT = 25  # seconds the patient's phone rings
NURSE_LANGUAGE = "en"  # the nurse's legs (whisper, press 1, how the dial ended) are spoken in English


def render(step: Step, callback_id: int, caller_id: str | None, settings: Settings) -> str:
    """The leg's answer; `caller_id` is the clinic's number the patient sees (None: the account's default).
    Each <Say> in the voice set for its language (VOICE_EN, VOICE_ES), as on the patient's own calls."""
    response = VoiceResponse()
    query = f"?callback={callback_id}"
    if step.then in (PRESS, OFFER):
        action = (PRESSED if step.then == PRESS else TEXT_OFFER) + query
        gather = response.gather(input="dtmf", num_digits=1, action=action, method="POST", action_on_empty_result=True,
                                 timeout=PRESS_TIMEOUT if step.then == PRESS else OFFER_TIMEOUT)
        # The whisper twice: a nurse picking up may miss the start.
        say_in(gather, f"{step.say} {step.say}" if step.then == PRESS else step.say, NURSE_LANGUAGE, settings)
        response.hangup()
    elif step.then == DIAL:
        say_in(response, step.say, NURSE_LANGUAGE, settings)
        dial = response.dial(caller_id=caller_id, action=DIALLED + query, method="POST", timeout=DIAL_TIMEOUT)
        dial.number(step.dial, url=PATIENT_LEG + query, method="POST")
    elif step.then == CONNECT:  # said to the patient; when it ends, Twilio connects them to the nurse
        if step.say:
            say_in(response, step.say, step.language, settings)
    else:
        if step.say:
            say_in(response, step.say, NURSE_LANGUAGE, settings)
        response.hangup()
    return str(response)


def nothing() -> str:
    """An empty answer (a status callback's: Twilio reads no verbs from it)."""
    return str(VoiceResponse())
