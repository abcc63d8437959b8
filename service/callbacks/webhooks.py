"""The callback's Twilio webhooks: each leg signed by Twilio, run through the runtime envelope, answered in TwiML.

Every URL names its callback (?callback=<id>) and Twilio signs the whole URL, so no one else can act on an
attempt. A repeated request (same step, same CallSid) gets its stored answer and changes nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from flask import Blueprint, current_app, request
from sqlalchemy import select

from ..channels.callback_voice import nothing, render
from ..channels.twilio_http import twilio_signed, twiml
from ..engine.text import clean_for_storage
from ..models import Callback, Escalation
from ..runtime import envelope
from ..runtime.envelope import Codec, Turn
from ..services import Services
from . import attempts
from .attempts import CONNECT, DIALLED, NURSE_LEG, PATIENT_LEG, PRESSED, STATUS, TEXT_OFFER, Step
from .phrases import staff

log = logging.getLogger(__name__)
bp = Blueprint("callbacks", __name__)

_STEP = Codec[Step](lambda step: json.dumps(step.to_json()), lambda raw: Step(**json.loads(raw)))
_DIGITS = re.compile(r"[0-9*#]{0,8}")

Work = Callable[[Services, Turn[Step], Callback], Step]


def _svc() -> Services:
    return current_app.extensions["triage"]


def _form(name: str, limit: int = 64) -> str:
    return clean_for_storage(request.form.get(name, ""), limit=limit).strip()


def _seconds(name: str) -> int | None:
    raw = _form(name, 12)
    return int(raw) if raw.isdigit() else None


def _digits() -> str:
    raw = _form("Digits", 8)
    return raw if _DIGITS.fullmatch(raw) else ""


def _callback_id() -> int | None:
    raw = request.args.get("callback", "")
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


def _run(step: str, work: Work) -> Step:
    """One leg's request in the envelope, the case's patient locked as for their own texts."""
    svc, callback_id, call_sid = _svc(), _callback_id(), _form("CallSid") or "-"
    if callback_id is None:
        return Step(staff("trouble"))
    with svc.factory() as session:
        patient_id = session.scalar(select(Escalation.patient_id)
                                    .join(Callback, Callback.escalation_id == Escalation.id)
                                    .where(Callback.id == callback_id))
    if patient_id is None:
        return Step(staff("trouble"))

    def in_turn(turn: Turn[Step]) -> Step:
        callback = turn.session.scalars(select(Callback).where(Callback.id == callback_id).with_for_update()).one()
        return work(svc, turn, callback)

    return envelope.run(svc, in_turn, key=f"callback:{callback_id}:{step}:{call_sid}", codec=_STEP,
                        patient_id=patient_id)


def _answer(step: str, work: Work) -> object:
    """Never a 500 to Twilio (the nurse would hear an error tone): a failure says so and hangs up."""
    try:
        done = _run(step, work)
    except Exception:
        log.exception("callback.webhook_failed step=%s callback=%s", step, _callback_id())
        done = Step(staff("trouble"))
    settings = _svc().settings
    return twiml(render(done, _callback_id() or 0, settings.twilio_phone_number or None, settings))


@bp.post(NURSE_LEG)
@twilio_signed
def nurse_leg():  # type: ignore[no-untyped-def]
    call_sid = _form("CallSid")
    return _answer("nurse", lambda svc, turn, callback: attempts.nurse_answered(
        svc, turn.session, callback, call_sid, turn.now))


@bp.post(PRESSED)
@twilio_signed
def pressed():  # type: ignore[no-untyped-def]
    digits = _digits()
    return _answer("pressed", lambda svc, turn, callback: attempts.pressed(svc, turn.session, callback, digits,
                                                                            turn.now))


@bp.post(PATIENT_LEG)
@twilio_signed
def patient_leg():  # type: ignore[no-untyped-def]
    return _answer("patient", lambda svc, turn, callback: attempts.patient_answered(svc, turn.session, callback,
                                                                                     turn.now))


@bp.post(DIALLED)
@twilio_signed
def dialled():  # type: ignore[no-untyped-def]
    status, seconds = _form("DialCallStatus", 16).lower(), _seconds("DialCallDuration")
    return _answer("dialled", lambda svc, turn, callback: attempts.dialled(svc, turn.session, callback, status,
                                                                            seconds, turn.now))


@bp.post(TEXT_OFFER)
@twilio_signed
def text_offer():  # type: ignore[no-untyped-def]
    digits = _digits()
    return _answer("text", lambda svc, turn, callback: attempts.text_offer(svc, turn.session, callback, digits,
                                                                            turn.now))


@bp.post(STATUS)
@twilio_signed
def nurse_call_status():  # type: ignore[no-untyped-def]
    """The nurse's call ended (Twilio does not retry status callbacks: a failure is logged loudly)."""
    status, seconds = _form("CallStatus", 16).lower(), _seconds("CallDuration")

    def work(svc: Services, turn: Turn[Step], callback: Callback) -> Step:
        attempts.nurse_leg_ended(svc, turn.session, callback, status, seconds, turn.now)
        return Step("", CONNECT)

    try:
        _run("status", work)
    except Exception:
        log.exception("callback.status_failed callback=%s", _callback_id())
    return twiml(nothing())
