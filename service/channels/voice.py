"""POST /twilio/voice: callers get the SMS triage flow by keypad or by voice, answered with TwiML.

Every callback carries, in its URL, what it answers (the language offer, a question, the text offer, the
closing prompt) and a step number, so a repeated callback for the same step gets the same TwiML and
advances nothing. The runtime (service/runtime/calls.py, around the phone menu in service/engine/phone.py) decides;
this module only speaks Twilio.

    /twilio/voice                 incoming call (the number's "A call comes in" webhook)
    /twilio/voice/answer          each <Gather> result: Digits, or SpeechResult + Confidence, or nothing
    /twilio/voice/dial-status     the <Dial> to the on-call nurse ended (DialCallStatus)
    /twilio/voice/voicemail       the caller's <Record>ing for the nurse (RecordingUrl)
    /twilio/voice/screen[-answer] what the nurse hears on answering, before being put through
    /twilio/voice/status          the number's "call status changes" callback (a hang-up mid-screen)
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from flask import Blueprint, current_app, g, request, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from ..engine.phone_turns import (
    CLOSING,
    DIAL,
    GATHER,
    LANGUAGE,
    OFFER,
    QUESTION,
    RECORD,
    Heard,
    VoiceTurn,
    phone_phrase,
)
from ..engine.text import clean_for_storage
from ..phones import to_e164
from ..runtime import calls
from ..services import Services
from ..settings import Settings
from ..spool.keep import keep_request
from .twilio_http import twilio_signed, twiml

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)

# Seconds of silence before a question's Gather gives up (then its action hears "nothing"): VOICE_INPUT_TIMEOUT.
LANGUAGE_TIMEOUT = 4  # the language offer: silence soon means "carry on in the language I heard"...
LANGUAGE_SHORTER_BY = 2  # ...so it waits this much less than a question (relay callers get the longer wait)
DIAL_TIMEOUT = 20  # seconds the nurse's phone rings
SCREEN_TIMEOUT = 10  # seconds the nurse has to press 1
VOICEMAIL_MAX_SECONDS = 120
ENDED = {"completed", "busy", "failed", "no-answer", "canceled"}
SAY_LANGUAGES = {"en": "en-US", "es": "es-US"}
# What Twilio puts in From when the caller hides their number (some are valid-looking numbers).
HIDDEN_CALLER_IDS = {"+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833"}


def caller_phone(raw: str | None, region: str) -> str | None:
    """The caller's number in E.164, or None when it is hidden, withheld or not a phone number."""
    if not raw or raw.strip() in HIDDEN_CALLER_IDS:
        return None
    return to_e164(raw, region)


_DIGITS = re.compile(r"^[0-9*#]+$")


def heard_from(digits: str | None, speech: str | None, confidence: str | None) -> Heard:
    """Twilio's Gather parameters as a Heard (bad values are treated as not heard, never as an error)."""
    digits = (digits or "").strip()
    try:
        sure = float(confidence) if confidence not in (None, "") else None
    except ValueError:
        sure = 0.0
    words = clean_for_storage(speech or "", limit=500).strip()  # no control bytes (Postgres refuses NUL)
    return Heard(digits=digits if _DIGITS.match(digits) else None, speech=words or None, confidence=sure)


def _svc() -> Services:
    return current_app.extensions["triage"]


def _call_sid() -> str:
    """The CallSid; a request without one (never from Twilio) gets one of its own, never another call's."""
    sid = clean_for_storage(request.form.get("CallSid", ""), limit=64).strip()
    if not sid:
        sid = g.setdefault("voice_call_sid", "missing-" + uuid.uuid4().hex)
    return sid


def _int(name: str) -> int | None:
    try:
        return int(request.args[name])
    except (KeyError, ValueError):
        return None


def voice_for(settings: Settings, language: str) -> str:
    """The Twilio voice set for a language (VOICE_EN, VOICE_ES); "" leaves Twilio's default."""
    return {"en": settings.voice_en, "es": settings.voice_es}.get(language, "")


def say_in(verb: VoiceResponse | Gather, text: str, language: str, settings: Settings) -> None:
    """One <Say> in a language, in the voice set for it: every <Say> the line speaks goes through here."""
    verb.say(text, language=SAY_LANGUAGES.get(language, "en-US"), voice=voice_for(settings, language) or None)


def gather_timeout(settings: Settings, at: str) -> int:
    if at == LANGUAGE:
        return max(LANGUAGE_TIMEOUT, settings.voice_input_timeout - LANGUAGE_SHORTER_BY)
    return settings.voice_input_timeout


def _respond(run: Callable[[], VoiceTurn], keep_as: str | None = None) -> str:
    """Run the runtime (which retries a lost race with a duplicate callback itself) and render its turn.
    `keep_as`: an incoming call, kept in the outage spool if it fails (a nurse calls back)."""
    svc = _svc()
    call_sid = _call_sid()
    try:
        return render(run(), call_sid)
    except Exception:
        # Never a 500 (the caller would hear an error tone and be cut off): say what to do, and still try
        # to put them through to a nurse, because this may be an emergency line for them.
        log.exception("voice.failed call=%s path=%s", call_sid, request.path)
        if keep_as is not None:
            keep_request(svc, keep_as, "trouble")
        return fallback(svc)


def render(turn: VoiceTurn, call_sid: str) -> str:
    settings = _svc().settings
    response = VoiceResponse()
    language = SAY_LANGUAGES.get(turn.language, "en-US")
    if turn.then == GATHER:
        action = url_for("voice.answer", at=turn.at, step=turn.step, tries=turn.tries)
        gather = response.gather(input="dtmf speech", action=action, method="POST", num_digits=1,
                                 timeout=gather_timeout(settings, turn.at), speech_timeout="auto",
                                 action_on_empty_result=True, language=language, hints=", ".join(turn.hints) or None)
        if turn.voices:  # the language offer: each sentence in the voice of its own language
            for text, voice in zip(turn.say, turn.voices, strict=True):
                say_in(gather, text, voice, settings)
        else:
            say_in(gather, " ".join(turn.say), turn.language, settings)  # one <Say>: the question and its keys
        response.redirect(action, method="POST")  # no input at all still reaches the action, never silence
        return str(response)
    if turn.say:
        say_in(response, " ".join(turn.say), turn.language, settings)
    if turn.then == DIAL and turn.nurse_phone:
        dial = response.dial(action=url_for("voice.dial_status", case=turn.case_id, step=turn.step), method="POST",
                             timeout=DIAL_TIMEOUT, caller_id=_svc().settings.twilio_phone_number or None)
        dial.number(turn.nurse_phone, url=url_for("voice.screen", case=turn.case_id, call=call_sid), method="POST")
        return str(response)
    if turn.then == RECORD:
        response.record(action=url_for("voice.voicemail", case=turn.case_id), method="POST",
                        max_length=VOICEMAIL_MAX_SECONDS, finish_on_key="#", play_beep=True, timeout=5)
        if turn.finally_say:  # Twilio goes on here only when nothing was recorded
            say_in(response, " ".join(turn.finally_say), turn.language, settings)
    response.hangup()
    return str(response)


def fallback(svc: Services) -> str:
    """What a caller hears when the line cannot go on (the database is down; Twilio's fallback URL): the flow's
    voice_trouble (911, the clinic's number) in every language, a try at the on-call nurse (the roster is in
    memory), then the words again. No query."""
    flow, settings = svc.flows.current().flow, svc.settings
    response = VoiceResponse()
    trouble = [(phone_phrase(flow, "trouble", language, svc.context), language) for language in flow.languages]
    for text, language in trouble:
        say_in(response, text, language, settings)
    try:
        chain = svc.roster.chain(svc.clock())
    except Exception:
        log.exception("voice.fallback_no_roster")
        chain = []
    if chain:
        response.dial(chain[0].phone, timeout=DIAL_TIMEOUT, caller_id=settings.twilio_phone_number or None)
    for text, language in trouble:  # again after the dial: 911 and the clinic's number
        say_in(response, text, language, settings)
    response.hangup()
    return str(response)


@bp.post("/twilio/voice")
@twilio_signed
def incoming_call():  # type: ignore[no-untyped-def]
    svc = _svc()
    form = request.form
    call_sid = _call_sid()
    phone = caller_phone(form.get("From"), svc.settings.default_region)
    if "Digits" in form or "SpeechResult" in form:  # a Gather pointed back here: an answer, not a new call
        heard = heard_from(form.get("Digits"), form.get("SpeechResult"), form.get("Confidence"))
        return twiml(_respond(lambda: calls.call_input(svc, call_sid=call_sid, phone=phone, step_number=None,
                                                       at=QUESTION, tries=0, heard=heard)))
    return twiml(_respond(lambda: calls.start_call(svc, call_sid=call_sid, phone=phone), keep_as="voice"))


@bp.post("/twilio/voice/answer")
@twilio_signed
def answer():  # type: ignore[no-untyped-def]
    svc = _svc()
    form = request.form
    at = request.args.get("at", QUESTION)
    at = at if at in (QUESTION, OFFER, CLOSING, LANGUAGE) else QUESTION
    heard = heard_from(form.get("Digits"), form.get("SpeechResult"), form.get("Confidence"))
    phone = caller_phone(form.get("From"), svc.settings.default_region)
    return twiml(_respond(lambda: calls.call_input(
        svc, call_sid=_call_sid(), phone=phone, step_number=_int("step"), at=at,
        tries=_int("tries") or 0, heard=heard)))


@bp.post("/twilio/voice/dial-status")
@twilio_signed
def dial_status():  # type: ignore[no-untyped-def]
    svc, form = _svc(), request.form
    return twiml(_respond(lambda: calls.dial_finished(
        svc, call_sid=_call_sid(), case_id=_int("case"), step_number=_int("step"),
        status=form.get("DialCallStatus", ""), bridged=form.get("DialBridged"))))


@bp.post("/twilio/voice/voicemail")
@twilio_signed
def voicemail():  # type: ignore[no-untyped-def]
    svc, form = _svc(), request.form
    url = clean_for_storage(form.get("RecordingUrl", ""), limit=1000) or None
    recording_sid = clean_for_storage(form.get("RecordingSid", ""), limit=64) or None
    return twiml(_respond(lambda: calls.voicemail_left(svc, call_sid=_call_sid(), case_id=_int("case"),
                                                       recording_url=url, recording_sid=recording_sid)))


@bp.post("/twilio/voice/status")
@twilio_signed
def call_status():  # type: ignore[no-untyped-def]
    """The number's "call status changes" callback: a caller who hangs up mid-screen is not forgotten."""
    status = request.form.get("CallStatus", "").strip().lower()
    if status in ENDED:
        try:
            calls.call_ended(_svc(), call_sid=_call_sid(), status=status)
        except Exception:  # Twilio does not retry status callbacks: log loudly, answer normally
            log.exception("voice.status_failed call=%s", _call_sid())
    return twiml(str(VoiceResponse()))


@bp.post("/twilio/voice/screen")
@twilio_signed
def screen():  # type: ignore[no-untyped-def]
    """Runs on the nurse's phone when they answer: only a key press (a person) puts the caller through."""
    svc = _svc()
    case_id, call = _int("case"), request.args.get("call", "")
    response = VoiceResponse()
    try:
        text = calls.nurse_screen_text(svc, case_id)
    except Exception:
        log.exception("voice.screen_failed case=%s", case_id)
        text = "Nurse line: a patient call. Press 1 to talk to the patient now."
    gather = response.gather(input="dtmf", num_digits=1, timeout=SCREEN_TIMEOUT, action_on_empty_result=True,
                             action=url_for("voice.screen_answer", case=case_id, call=call), method="POST")
    say_in(gather, f"{text} {text}", "en", svc.settings)  # twice: the nurse may miss the start
    response.hangup()
    return twiml(str(response))


@bp.post("/twilio/voice/screen-answer")
@twilio_signed
def screen_answer():  # type: ignore[no-untyped-def]
    svc = _svc()
    accepted = request.form.get("Digits", "").strip() == "1"
    try:
        calls.nurse_screen_answer(svc, case_id=_int("case"), call_sid=request.args.get("call", ""), accepted=accepted)
    except Exception:
        log.exception("voice.screen_answer_failed case=%s", _int("case"))
    response = VoiceResponse()
    if not accepted:  # their voicemail, or they declined: the caller is offered a voicemail instead
        response.hangup()
    return twiml(str(response))  # an empty response ends the screen and connects the two calls
