"""The runtime for phone calls: the same flow, engine, answer parser, pages and history as SMS.

One Twilio callback, end to end, in one transaction:

    lock the patient -> the call's conversation and this CallSid + step's receipt, in one statement (seen
    before: answer the same, advance nothing) -> the phone menu decides (engine/phone.py) -> the answer and
    prompt inserted, the conversation saved by one UPDATE (runtime/call_rows.py, the path a text takes),
    escalations and staged advice -> commit -> pages go out after the commit

What the caller's keys or words mean, and what the line says back, is the phone menu's, pure beside the
engine; this module reads and writes the database around it. Each callback returns a `VoiceTurn`: what the
caller hears and what happens next (gather an answer, dial the nurse, record a voicemail, hang up).
channels/voice.py renders it as TwiML and the terminal simulator prints it, so both run exactly this code.

Texts to a caller need their consent: an outcome's check-ins start only when the caller accepts the offer
to get the advice by text (TCPA healthcare exemption: texts to the number the patient gave,
references.md), and never to a hidden number or one that has opted out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..channels.twilio_http import split_for_sms
from ..checkins.schedule import schedule
from ..engine import phone as phone_menu
from ..engine.flow import LEVEL_WORDS, Level
from ..engine.phone_turns import (
    HANGUP,
    LANGUAGE,
    OFFER,
    QUESTION,
    Call,
    Caller,
    Decision,
    Heard,
    VoiceTurn,
    phone_phrase,
)
from ..engine.state import DONE
from ..escalation.cases import audit, first_contact, open_case_for
from ..models import Conversation, Escalation, EscalationEvent, Message, Patient
from ..outbox.outbound import queue_sms, record_reply, release
from ..phones import mask, pretty
from ..services import Services
from .call_rows import CallRows, CallSituation, read_call
from .conversation import PatientRow, flow_of, lock_patient_row, open_conversation
from .envelope import NO_PATIENT, Codec, Turn, run

log = logging.getLogger(__name__)


@dataclass
class _Call(CallRows):
    """One callback's view of the call, inside its transaction."""

    step: int = 1
    call_sid: str = ""
    answered: bool = False  # the caller had answered something before this callback

    def menu(self, *, first_answer: bool = False, advice_offered: bool = False) -> Call:
        """The call as the phone menu sees it: the conversation's state and what we know of the caller."""
        patient = self.patient
        caller = Caller(language=patient.language or "en", status=self.conversation.status, step=self.step,
                        textable=_textable(patient), hidden=patient.phone is None,
                        privacy_notice_sent=patient.privacy_notice_sent, first_answer=first_answer,
                        advice_offered=advice_offered)
        return Call(self.flow, self.state(), caller, self.svc.context)


# --- entry points: one per Twilio callback ---------------------------------------------------------


_TURN = Codec[VoiceTurn](VoiceTurn.to_json, VoiceTurn.from_json)


def _caller(phone: str | None) -> str | object:
    """Lock the caller's patient row first when the number is shown; a hidden number gets one at _begin."""
    return phone if phone else NO_PATIENT


def start_call(svc: Services, *, call_sid: str, phone: str | None) -> VoiceTurn:
    """An incoming call: the language offer; then (call_input) the welcome, the keypad controls, the first question."""

    def work(turn: Turn[VoiceTurn]) -> VoiceTurn:
        call = _open_call(turn, call_sid)
        if call is not None:
            return _carry_out(call, phone_menu.resume(call.menu()))
        call = _begin(turn, call_sid, _situation(turn).patient)
        return _carry_out(call, phone_menu.opening(call.menu()))

    return run(svc, work, key=f"voice:{call_sid}:start", codec=_TURN, phone=_caller(phone), read=_read(call_sid))


def call_input(svc: Services, *, call_sid: str, phone: str | None, step_number: int | None, at: str, tries: int,
               heard: Heard) -> VoiceTurn:
    """A Gather result (keys, speech or silence) for the language offer, a question, the text offer or the
    closing prompt."""

    def work(turn: Turn[VoiceTurn]) -> VoiceTurn:
        call = _open_call(turn, call_sid, step_number)
        if call is None:  # we never saw this call begin: begin it now rather than guess at the answer
            patient = _situation(turn).patient or lock_patient_row(turn.session, phone, turn.now)
            call = _begin(turn, call_sid, patient)
            return _carry_out(call, phone_menu.begin(call.menu()))
        _record_answer(call, heard, kind="language" if at == LANGUAGE else "answer")
        staged = _staged(call) if at == OFFER else []
        menu = call.menu(first_answer=at == QUESTION and not call.answered, advice_offered=bool(staged))
        return _carry_out(call, phone_menu.answer(menu, at, tries, heard), staged)

    key = f"voice:{call_sid}:{at}:{step_number}" if step_number is not None else None
    return run(svc, work, key=key, codec=_TURN, phone=_caller(phone), read=_read(call_sid))


def dial_finished(svc: Services, *, call_sid: str, case_id: int | None, step_number: int | None, status: str,
                  bridged: str | None = None) -> VoiceTurn:
    """The <Dial> to the nurse ended: goodbye if they talked, otherwise a voicemail for the nurse."""

    def work(turn: Turn[VoiceTurn]) -> VoiceTurn:
        call = _open_call(turn, call_sid, step_number)
        if call is None:
            return _trouble_turn(svc)
        case = _case_of(call, case_id)
        declined = case is not None and _screen_declined(turn.session, case, call_sid)
        talked = status == "completed" and bridged != "false" and not declined
        if case is not None and talked:
            audit(turn.session, case, "call_connected", turn.now, detail=f"nurse {mask(case.nurse_phone)}")
        elif case is not None:
            audit(turn.session, case, "call_unanswered", turn.now, detail=f"dial status {status or 'unknown'}")
        return _carry_out(call, phone_menu.after_dial(call.menu(), talked=talked, case_id=case.id if case else None))

    key = f"voice:{call_sid}:dial:{step_number}" if step_number is not None else None
    return run(svc, work, key=key, codec=_TURN, read=_read(call_sid))


def voicemail_left(svc: Services, *, call_sid: str, case_id: int | None, recording_url: str | None,
                   recording_sid: str | None) -> VoiceTurn:
    """The caller's voicemail: kept on the case, and a second page tells the nurse where it is."""

    def work(turn: Turn[VoiceTurn]) -> VoiceTurn:
        call = _open_call(turn, call_sid)
        if call is None:
            return _trouble_turn(svc)
        case = _case_of(call, case_id)
        if not recording_url:
            return _carry_out(call, phone_menu.after_voicemail(call.menu(), left=False))
        turn.session.add(Message(patient_id=call.patient.id, conversation_id=call.conversation.id,
                                 escalation_id=case.id if case else None, direction="in", channel="voice",
                                 kind="voicemail", key=call.state().outcome, body=recording_url,
                                 status="received", twilio_sid=recording_sid, created_at=turn.now))
        if case is not None:
            case.recording_url = recording_url
            case.updated_at = turn.now
            audit(turn.session, case, "voicemail", turn.now, detail=recording_url)
            _page_voicemail(call, case, recording_url)
        return _carry_out(call, phone_menu.after_voicemail(call.menu(), left=True))

    key = f"voice:{call_sid}:voicemail:{recording_sid or recording_url}" if recording_url else None
    return run(svc, work, key=key, codec=_TURN, read=_read(call_sid))


def call_ended(svc: Services, *, call_sid: str, status: str) -> bool:
    """The call is over. A caller who hung up inside the red-flag screen, after answering something, is
    treated as an SMS patient who stopped replying: an incomplete screen, so a nurse callback. True if so."""

    def work(turn: Turn[bool]) -> bool:
        call = _open_call(turn, call_sid)
        result = phone_menu.hung_up(call.menu(), status) if call is not None else None
        if call is None or result is None:
            return False
        call.advance(result)
        call.save()
        log.info("voice.hung_up_in_screen conversation=%s", call.conversation.id)
        return True

    # Twilio may repeat it: the conversation is then done, so nothing happens twice
    return run(svc, work, read=_read(call_sid))


def missed_call(svc: Services, *, call_sid: str, phone: str | None) -> bool:
    """A call Twilio's fallback URL answered while the database was down (the outage spool, replayed): nobody
    heard the caller, so it is recorded as a missed call and a nurse callback, once per CallSid. A call that
    went on to an outcome after all needs nothing more. True if a case was opened or raised now."""

    def work(turn: Turn[bool]) -> bool:
        call = _open_call(turn, call_sid)
        if call is None:
            call = _begin(turn, call_sid, _situation(turn).patient)
        elif call.conversation.status == DONE:
            return False
        call.advance(phone_menu.missed_call(call.menu()))
        call.save()
        log.info("voice.missed_call conversation=%s", call.conversation.id)
        return True

    return run(svc, work, key=f"voice:{call_sid}:missed", codec=_MISSED, phone=_caller(phone),
               read=_read(call_sid))


_MISSED = Codec[bool](json.dumps, json.loads)


def nurse_screen_text(svc: Services, case_id: int | None) -> str:
    """What the nurse hears on answering, before the caller is put through (so their voicemail is not)."""
    with svc.factory() as session:
        case = session.get(Escalation, case_id) if case_id else None
        if case is None:
            return f"{svc.settings.clinic_name} nurse line: a patient call. Press 1 to talk to the patient now."
        conversation = session.get(Conversation, case.conversation_id) if case.conversation_id else None
        flow = flow_of(svc, session, conversation) if conversation else svc.flows.current().flow
        flags = ", ".join(flow.red_flags[f].label for f in case.red_flags if f in flow.red_flags) or case.reason
        return (f"{svc.settings.clinic_name} nurse line: case {case.id}, {LEVEL_WORDS[Level(case.level)]}: {flags}. "
                "Press 1 to talk to the patient now.")


def nurse_screen_answer(svc: Services, *, case_id: int | None, call_sid: str, accepted: bool) -> None:
    """The nurse pressed 1 (put through) or did not (their voicemail, or they declined): the audit says which."""

    def work(turn: Turn[None]) -> None:
        case = turn.session.get(Escalation, case_id) if case_id else None
        if case is not None:
            audit(turn.session, case, "call_accepted" if accepted else "call_declined", turn.now, detail=call_sid)
            if accepted:  # the caller is put through now: the nurse has reached the patient
                first_contact(case, turn.now, "voice")

    run(svc, work)


def trouble_text(svc: Services) -> str:
    """Said when the line cannot go on (the database is down): from the flow in memory, no query."""
    return phone_phrase(svc.flows.current().flow, "trouble", "en", svc.context)


# --- opening a callback, and carrying out what the menu decided ---------------------------------------


def _read(call_sid: str) -> Callable[[Session, PatientRow | None, str | None], CallSituation]:
    """The envelope's read, after the lock: the call's conversation and the receipt in one statement."""
    return lambda session, patient, key: read_call(session, patient, key, call_sid)


def _situation(turn: Turn[object]) -> CallSituation:
    assert isinstance(turn.found, CallSituation)
    return turn.found


def _open_call(turn: Turn[object], call_sid: str, step_number: int | None = None) -> _Call | None:
    found = _situation(turn)
    if found.conversation is None or found.patient is None:
        return None
    svc, session = turn.svc, turn.session
    return _Call(svc, session, flow_of(svc, session, found.conversation), found.conversation, found.patient,
                 turn.now, step=(step_number or 0) + 1, call_sid=call_sid, answered=found.answered)


def _begin(turn: Turn[object], call_sid: str, patient: PatientRow | None) -> _Call:
    svc, session, now = turn.svc, turn.session, turn.now
    patient = patient or lock_patient_row(session, None, now)  # hidden caller ID: a patient of their own
    conversation = open_conversation(session, svc.flows, patient, "voice", now, call_sid=call_sid)
    call = _Call(svc, session, flow_of(svc, session, conversation), conversation, patient, now, call_sid=call_sid)
    call.record(kind="call", key="call", body="(incoming call)", sid=call_sid)
    log.info("voice.call_started conversation=%s from=%s", conversation.id, mask(patient.phone))
    return call


def _carry_out(call: _Call, decision: Decision, staged: list[Message] | None = None) -> VoiceTurn:
    """Save and do what the menu decided, in the order it was decided: the advice already offered settled, the
    engine's step saved (pages queued), new advice staged, the nurse found for a transfer; then the history."""
    if decision.send_advice is not None:
        _settle_advice(call, staged or [], decision)
    if decision.result is not None:
        call.advance(decision.result)
    if decision.advice is not None:
        _stage_advice(call, decision.advice)
    if decision.transfer:
        decision = _transfer(call, decision)
    call.save()  # the conversation's one UPDATE
    turn = decision.turn
    if turn.say or turn.finally_say:  # every prompt goes in the patient's history, as SMS replies do
        record_reply(call.session, patient_id=call.patient.id, conversation_id=call.conversation.id, channel="voice",
                     body="\n".join(turn.say), key=",".join(decision.keys), now=call.now, to=call.patient.phone)
    return turn


def _record_answer(call: _Call, heard: Heard, kind: str = "answer") -> None:
    call.record(kind=kind, key=heard.how, body=heard.body[:2000], sid=call.call_sid)
    call.change({"last_inbound_at": call.now})


def _trouble_turn(svc: Services) -> VoiceTurn:
    return VoiceTurn((trouble_text(svc),), HANGUP)


def _transfer(call: _Call, decision: Decision) -> Decision:
    """Put the caller through to the nurse the case was paged to (the page itself is already queued)."""
    case = open_case_for(call.session, call.conversation.id)
    chain = call.svc.roster.chain(call.now)
    nurse = (case.nurse_phone if case is not None else None) or (chain[0].phone if chain else None)
    if case is None or nurse is None:
        return phone_menu.connect(call.menu(), decision, None, None)
    audit(call.session, case, "call_transfer", call.now, detail=f"dialling nurse {mask(nurse)}")
    return phone_menu.connect(call.menu(), decision, case.id, nurse)


# --- the offer to text the advice ------------------------------------------------------------------------


def _textable(patient: PatientRow | Patient) -> bool:
    """A number we may text and that can take a text: not hidden, not opted out, not a known landline."""
    if patient.phone is None or patient.opted_out:
        return False
    try:
        kind = phonenumbers.number_type(phonenumbers.parse(patient.phone, None))
    except phonenumbers.NumberParseException:
        return False
    landline = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.TOLL_FREE,
                phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.SHARED_COST,
                phonenumbers.PhoneNumberType.UAN, phonenumbers.PhoneNumberType.VOICEMAIL,
                phonenumbers.PhoneNumberType.PAGER)
    return kind not in landline


def _stage_advice(call: _Call, advice: str) -> None:
    """The written advice, stored but not sent until the caller accepts (the outbox leaves it alone till then)."""
    assert call.patient.phone is not None
    for body in split_for_sms([advice]):
        queue_sms(call.session, to=call.patient.phone, body=body, kind="advice", now=call.now, held=True,
                  patient_id=call.patient.id, conversation_id=call.conversation.id, key="voice_advice")


def _staged(call: _Call) -> list[Message]:
    return list(call.session.scalars(select(Message).where(Message.conversation_id == call.conversation.id,
                                                           Message.status == "offered")))


def _settle_advice(call: _Call, staged: list[Message], decision: Decision) -> None:
    """Send the staged advice (and start the check-ins the menu chose), or drop it."""
    if not decision.send_advice:
        for message in staged:
            message.status = "declined"
        return
    release(call.session, staged, call.now)
    call.notice_sent()
    # The advice text carried the notice: a text reply on this conversation (a check-in) must not repeat it.
    call.change({"state": call.state().evolve(privacy_notice_sent=True).to_json()})
    if decision.checkins:  # the same check-ins an SMS patient gets
        conversation, patient = call.orm()
        if patient.phone is not None and not patient.opted_out:  # a number to text, no STOP
            for checkin in decision.checkins:
                schedule(call.session, conversation.id, patient.id, checkin.ask, call.now + checkin.after,
                         call.now)
    log.info("voice.advice_texted conversation=%s", call.conversation.id)


# --- the nurse's side ----------------------------------------------------------------------------------


def _case_of(call: _Call, case_id: int | None) -> Escalation | None:
    case = call.session.get(Escalation, case_id) if case_id else None
    if case is None or case.conversation_id != call.conversation.id:
        return open_case_for(call.session, call.conversation.id)
    return case


def _screen_declined(session: Session, case: Escalation, call_sid: str) -> bool:
    # The detail is sealed (it cannot be compared in SQL): the case's few declines are compared here.
    return call_sid in session.scalars(select(EscalationEvent.detail).where(EscalationEvent.escalation_id == case.id,
                                                                            EscalationEvent.event == "call_declined"))


def _page_voicemail(call: _Call, case: Escalation, url: str) -> None:
    chain = call.svc.roster.chain(call.now)
    nurse = case.nurse_phone or (chain[0].phone if chain else None)
    if nurse is None:
        audit(call.session, case, "page_impossible", call.now, detail="voicemail: no one on call in the roster")
        return
    body = (f"Voicemail for case {case.id} ({LEVEL_WORDS[Level(case.level)]}) from patient "
            f"{pretty(call.patient.phone)}: {url} Reply ACK {case.id} to take it.")
    queue_sms(call.session, to=nurse, body=body, kind="page", now=call.now, patient_id=call.patient.id,
              conversation_id=call.conversation.id, escalation_id=case.id, key="voicemail")
    audit(call.session, case, "voicemail_paged", call.now, detail=f"nurse {mask(nurse)}")
