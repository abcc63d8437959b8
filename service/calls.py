"""The runtime for phone calls: the same flow, engine, answer parser, pages and history as SMS.

One Twilio callback, end to end, in one transaction:

    lock the patient -> seen this CallSid + step before? (answer the same, advance nothing)
    -> the call's conversation -> keys or speech turned into text -> engine.step(channel="voice")
    -> state, prompts, answers, escalations saved -> commit -> pages go out after the commit

Each callback returns a `VoiceTurn`: what the caller hears and what happens next (gather an
answer, dial the nurse, record a voicemail, hang up). channels/voice.py renders it as TwiML and
the terminal simulator prints it, so both run exactly this code.

Texts to a caller need their consent: an outcome's check-ins start only when the caller accepts
the offer to get the advice by text (TCPA healthcare exemption: texts to the number the patient
gave, references.md), and never to a hidden number or one that has opted out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from .channels.twilio_http import split_for_sms
from .checkins.schedule import schedule
from .conversations import apply, flow_of, lock_patient, receipt, start_conversation, store_receipt
from .db import transaction
from .engine.answers import parse_answer
from .engine.flow import Choice, Flow, FreeText, Info, Level, Outcome, Question
from .engine.keypad import key_to_text
from .engine.keywords import Keyword, match_keyword
from .engine.redflags import detect
from .engine.render import Env, localize, node_text, prompt
from .engine.state import ACTIVE, DONE, Escalate, Result, ScheduleCheckin, State
from .engine.step import GIVE_UP, awaiting_screening, on_silence, step
from .engine.text import clean_for_storage, normalize
from .escalation.cases import LEVEL_WORDS, audit, open_case_for
from .models import Conversation, Escalation, EscalationEvent, Message, Patient
from .outbound import queue_sms, record_reply
from .phones import mask, pretty
from .services import Services

log = logging.getLogger(__name__)

# What happens after the caller has heard a turn.
GATHER, DIAL, RECORD, HANGUP = "gather", "dial", "record", "hangup"
# What a gathered answer is for.
QUESTION, OFFER, CLOSING, LANGUAGE = "question", "offer", "closing", "language"

MIN_CONFIDENCE = 0.5  # speech heard less surely than this is asked again (unless it names a red flag)
OFFER_TRIES = 2  # unanswered text offers before we take it as "no" (no consent, no texts)
NURSE_KEY_TEXT = "NURSE"
# The language offer is its own short Gather before the first question, so its keys never answer one
# (2 is "No" at every question). The words the engine takes as choosing a language (engine/keywords.py).
LANGUAGE_KEYS = {"1": "en", "2": "es"}
LANGUAGE_KEYWORDS = {"en": "ENGLISH", "es": "ESPAÑOL"}
LANGUAGE_HINTS = ("español", "Spanish", "English", "inglés")
_REPEAT_WORDS = {"repeat", "repeat that", "repeat the question", "say that again", "say again", "again", "what",
                 "pardon", "sorry", "come again", "can you repeat that", "repite", "otra vez"}
_YES_NO = Question(type="question", text={"en": "text offer"}, choices=[
    Choice(id="yes", label={"en": "Yes"}, next="-"), Choice(id="no", label={"en": "No"}, next="-")])


@dataclass(frozen=True)
class Heard:
    """One Gather result as Twilio reports it: keys pressed, or words spoken, or nothing."""

    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None

    @property
    def body(self) -> str:
        if self.digits:
            return f"pressed {self.digits}"
        return self.speech or "(no answer)"

    @property
    def how(self) -> str:
        if self.digits:
            return "dtmf"
        if self.speech:
            return "speech" if self.sure else "speech_unsure"
        return "silence"

    @property
    def sure(self) -> bool:
        return self.confidence is None or self.confidence >= MIN_CONFIDENCE


@dataclass(frozen=True)
class VoiceTurn:
    """What the caller hears, then what happens next; stored as the webhook receipt, so a repeat is exact."""

    say: tuple[str, ...]
    then: str = HANGUP
    at: str = QUESTION  # GATHER: what the answer is for
    step: int = 0  # GATHER / DIAL: the number the next callback carries (a repeat of it is not a new step)
    tries: int = 0  # OFFER / CLOSING: unanswered prompts so far
    hints: tuple[str, ...] = ()  # GATHER: words the speech recogniser should expect
    case_id: int | None = None  # DIAL / RECORD
    nurse_phone: str | None = None  # DIAL
    finally_say: tuple[str, ...] = ()  # RECORD: said when no message was left (never silence)
    language: str = "en"  # the voice of every <Say>, and the language a <Gather> recognises speech in
    voices: tuple[str, ...] = ()  # when set, the language of each `say` in turn (the bilingual language offer)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str) -> VoiceTurn:
        data = json.loads(raw)
        for name in ("say", "hints", "finally_say", "voices"):
            data[name] = tuple(data.get(name) or ())
        return cls(**data)


@dataclass
class _Call:
    """One callback's view of the call, inside its transaction."""

    svc: Services
    session: Session
    flow: Flow
    conversation: Conversation
    patient: Patient
    now: datetime
    step: int
    said: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.patient.language or "en"

    def word(self, name: str, language: str | None = None) -> str:
        """One of the phone line's own phrases (the flow's `voice_*` messages, flows/shared/universal.yaml), in
        the caller's language (or the one given)."""
        return phone_phrase(self.flow, name, language or self.language, self.svc.context)

    def hear(self, key: str, *texts: str) -> None:
        self.said += [t for t in texts if t]
        self.keys.append(key)


def phone_phrase(flow: Flow, name: str, language: str, context: Mapping[str, str]) -> str:
    text = getattr(flow.messages, f"voice_{name}")
    assert text is not None, name  # lint: every flow has the phone phrases (they come from universal.yaml)
    return localize(text, language, context)


# --- entry points: one per Twilio callback ---------------------------------------------------------


def start_call(svc: Services, *, call_sid: str, phone: str | None) -> VoiceTurn:
    """An incoming call: the language offer; then (call_input) the welcome, the keypad controls, the first question."""
    now = svc.clock()
    key = f"voice:{call_sid}:start"
    with transaction(svc.factory) as session:
        patient = lock_patient(session, phone, now) if phone else None
        seen = receipt(session, key)
        if seen is not None:
            return VoiceTurn.from_json(seen)
        call = _open_call(svc, session, call_sid, now)
        turn = _language_offer(_begin(svc, session, call_sid, patient, now)) if call is None else _resume(call)
        store_receipt(session, key, turn.to_json(), now)
    svc.dispatch()
    return turn


def call_input(svc: Services, *, call_sid: str, phone: str | None, step_number: int | None, at: str, tries: int,
               heard: Heard) -> VoiceTurn:
    """A Gather result (keys, speech or silence) for the language offer, a question, the text offer or the
    closing prompt."""
    now = svc.clock()
    key = f"voice:{call_sid}:{at}:{step_number}" if step_number is not None else None
    with transaction(svc.factory) as session:
        if phone:
            lock_patient(session, phone, now)
        seen = receipt(session, key)
        if seen is not None:
            return VoiceTurn.from_json(seen)
        call = _open_call(svc, session, call_sid, now, step_number)
        if call is None:  # we never saw this call begin: begin it now rather than guess at the answer
            call = _begin(svc, session, call_sid, lock_patient(session, phone, now), now)
            turn = _first_turn(call)
        else:
            _record_answer(call, heard, kind="language" if at == LANGUAGE else "answer")
            if at == LANGUAGE:
                turn = _language_answer(call, heard, tries)
            elif at == OFFER:
                turn = _offer_answer(call, heard, tries)
            elif at == CLOSING:
                turn = _closing_answer(call, heard, tries)
            else:
                turn = _question_answer(call, heard)
        store_receipt(session, key, turn.to_json(), now)
    svc.dispatch()
    return turn


def dial_finished(svc: Services, *, call_sid: str, case_id: int | None, step_number: int | None, status: str,
                  bridged: str | None = None) -> VoiceTurn:
    """The <Dial> to the nurse ended: goodbye if they talked, otherwise a voicemail for the nurse."""
    now = svc.clock()
    key = f"voice:{call_sid}:dial:{step_number}" if step_number is not None else None
    with transaction(svc.factory) as session:
        seen = receipt(session, key)
        if seen is not None:
            return VoiceTurn.from_json(seen)
        call = _open_call(svc, session, call_sid, now, step_number)
        if call is None:
            return _trouble_turn(svc)
        case = _case_of(call, case_id)
        declined = case is not None and _screen_declined(session, case, call_sid)
        if status == "completed" and bridged != "false" and not declined:
            if case is not None:
                audit(session, case, "call_connected", now, detail=f"nurse {mask(case.nurse_phone)}")
            call.hear("after_nurse", call.word("after_nurse"), call.word("goodbye"))
            turn = _finish(call, VoiceTurn(tuple(call.said), HANGUP, language=call.language))
        else:
            if case is not None:
                audit(session, case, "call_unanswered", now, detail=f"dial status {status or 'unknown'}")
            call.hear("nurse_unanswered", call.word("nurse_unanswered"))
            outcome = call.conversation.outcome
            if outcome and Level(call.conversation.level or Level.home_care).disposition == "emergency":
                call.hear(outcome, _text(call, outcome))  # the emergency advice again, before the voicemail
            call.hear("voicemail_prompt", call.word("voicemail_prompt"))
            turn = _finish(call, VoiceTurn(tuple(call.said), RECORD, case_id=case.id if case else None,
                                           finally_say=(call.word("no_voicemail"), call.word("goodbye")),
                                           language=call.language))
        store_receipt(session, key, turn.to_json(), now)
    return turn


def voicemail_left(svc: Services, *, call_sid: str, case_id: int | None, recording_url: str | None,
                   recording_sid: str | None) -> VoiceTurn:
    """The caller's voicemail: kept on the case, and a second page tells the nurse where it is."""
    now = svc.clock()
    key = f"voice:{call_sid}:voicemail:{recording_sid or recording_url}" if recording_url else None
    with transaction(svc.factory) as session:
        seen = receipt(session, key)
        if seen is not None:
            return VoiceTurn.from_json(seen)
        call = _open_call(svc, session, call_sid, now)
        if call is None:
            return _trouble_turn(svc)
        case = _case_of(call, case_id)
        if not recording_url:
            call.hear("no_voicemail", call.word("no_voicemail"), call.word("goodbye"))
            return _finish(call, VoiceTurn(tuple(call.said), HANGUP, language=call.language))
        session.add(Message(patient_id=call.patient.id, conversation_id=call.conversation.id,
                            escalation_id=case.id if case else None, direction="in", channel="voice",
                            kind="voicemail", key=call.conversation.outcome, body=recording_url, status="received",
                            twilio_sid=recording_sid, created_at=now))
        if case is not None:
            case.recording_url = recording_url
            case.updated_at = now
            audit(session, case, "voicemail", now, detail=recording_url)
            _page_voicemail(call, case, recording_url)
        call.hear("voicemail_thanks", call.word("voicemail_thanks"), call.word("goodbye"))
        turn = _finish(call, VoiceTurn(tuple(call.said), HANGUP, language=call.language))
        store_receipt(session, key, turn.to_json(), now)
    svc.dispatch()
    return turn


def call_ended(svc: Services, *, call_sid: str, status: str) -> bool:
    """The call is over. A caller who hung up inside the red-flag screen, after answering something, is
    treated as an SMS patient who stopped replying: an incomplete screen, so a nurse callback. True if so."""
    now = svc.clock()
    with transaction(svc.factory) as session:
        call = _open_call(svc, session, call_sid, now)
        if call is None:
            return False
        state = State.from_json(call.conversation.state)
        if not awaiting_screening(call.flow, state) or not state.answers:
            return False
        result = on_silence(call.flow, state, GIVE_UP, svc.context)
        reason = f"caller hung up before finishing the screening (call {status or 'ended'})"
        actions = [replace(a, reason=reason) if isinstance(a, Escalate) else a for a in result.actions
                   if not isinstance(a, ScheduleCheckin)]  # no texts the caller did not agree to
        apply(svc, session, call.flow, call.conversation, call.patient, Result(result.state, [], actions), now)
        log.info("voice.hung_up_in_screen conversation=%s", call.conversation.id)
    svc.dispatch()
    return True


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
    now = svc.clock()
    with transaction(svc.factory) as session:
        case = session.get(Escalation, case_id) if case_id else None
        if case is not None:
            audit(session, case, "call_accepted" if accepted else "call_declined", now, detail=call_sid)


def trouble_text(svc: Services) -> str:
    """Said when the line cannot go on (the database is down): from the flow in memory, no query."""
    return phone_phrase(svc.flows.current().flow, "trouble", "en", svc.context)


# --- opening and closing a callback ----------------------------------------------------------------


def _open_call(svc: Services, session: Session, call_sid: str, now: datetime, step_number: int | None = None
               ) -> _Call | None:
    found = session.execute(select(Conversation.id, Conversation.patient_id).where(Conversation.call_sid == call_sid)
                            .order_by(Conversation.id.desc()).limit(1)).first()
    if found is None:
        return None
    # Lock the patient (as SMS does), then read the conversation as it is now.
    patient = session.scalars(select(Patient).where(Patient.id == found.patient_id).with_for_update()).one()
    conversation = session.get(Conversation, found.id, populate_existing=True)
    assert conversation is not None
    return _Call(svc, session, flow_of(svc, session, conversation), conversation, patient, now, (step_number or 0) + 1)


def _begin(svc: Services, session: Session, call_sid: str, patient: Patient | None, now: datetime) -> _Call:
    patient = patient or lock_patient(session, None, now)  # hidden caller ID: a patient of their own
    conversation = start_conversation(session, svc.flows, patient, "voice", now, call_sid=call_sid)
    session.add(Message(patient_id=patient.id, conversation_id=conversation.id, direction="in", channel="voice",
                        kind="call", key="call", body="(incoming call)", status="received", twilio_sid=call_sid,
                        created_at=now))
    log.info("voice.call_started conversation=%s from=%s", conversation.id, mask(patient.phone))
    return _Call(svc, session, flow_of(svc, session, conversation), conversation, patient, now, 1)


def _first_turn(call: _Call, text: str = "") -> VoiceTurn:
    """The welcome, the keypad controls once, then the first question. `text` is what the caller said or chose
    at the language offer, read by the engine as a first text is (a language keyword, a red flag, NURSE)."""
    result = step(call.flow, State.from_json(call.conversation.state), text, call.svc.context, channel="voice")
    if result.state.status != ACTIVE or result.state.node is None:
        return _after_step(call, result)  # an emergency or a nurse at once: no menu to explain
    # The keypad controls, said once: after the welcome, before the first question (in the language chosen).
    controls = localize(call.flow.messages.voice_controls, result.state.language, call.svc.context)
    messages = list(result.messages)
    at = next((i for i, m in enumerate(messages) if m.key == result.state.node), len(messages))
    for message in messages[:at]:
        call.hear(message.key, message.text)
    call.hear("voice_controls", controls)
    return _after_step(call, Result(result.state, messages[at:], result.actions))


def _resume(call: _Call) -> VoiceTurn:
    """The call is known but this callback is not: say where the caller is, without moving on."""
    node = call.conversation.node
    if call.conversation.status == ACTIVE and node is not None:
        call.hear(node, prompt(call.flow, node, call.language, Env(call.svc.context, "voice")))
        return _finish(call, _question_turn(call))
    if call.conversation.status == ACTIVE and call.conversation.outcome is None:
        return _language_offer(call)  # not past the language offer yet
    return _closing_turn(call)


def _finish(call: _Call, turn: VoiceTurn) -> VoiceTurn:
    """Every prompt goes in the patient's history, as SMS replies do."""
    if turn.say or turn.finally_say:
        record_reply(call.session, patient_id=call.patient.id, conversation_id=call.conversation.id, channel="voice",
                     body="\n".join(turn.say), key=",".join(call.keys)[:64], now=call.now, to=call.patient.phone)
    return turn


def _record_answer(call: _Call, heard: Heard, kind: str = "answer") -> None:
    call.session.add(Message(patient_id=call.patient.id, conversation_id=call.conversation.id, direction="in",
                             channel="voice", kind=kind, key=heard.how, body=heard.body[:2000],
                             status="received", twilio_sid=call.conversation.call_sid, created_at=call.now))
    call.conversation.last_inbound_at = call.now


def _trouble_turn(svc: Services) -> VoiceTurn:
    return VoiceTurn((trouble_text(svc),), HANGUP)


# --- what the caller's keys or words mean ------------------------------------------------------------

REPEAT, NURSE, TEXT = "repeat", "nurse", "text"


def _meaning(flow: Flow, heard: Heard, node: object = None) -> tuple[str, str]:
    """(REPEAT | NURSE | TEXT, the text for the engine). Silence and unsure speech are an empty text."""
    if heard.digits:
        text = key_to_text(heard.digits)
        if text is None:
            return REPEAT, ""
        if text == NURSE_KEY_TEXT:
            return NURSE, text
        return TEXT, "" if isinstance(node, FreeText) else text  # a key at a free question skips it
    speech = (heard.speech or "").strip()
    if not speech:
        return TEXT, ""
    if not heard.sure and not detect(flow, speech):
        return TEXT, ""  # ask again; but a red flag, however faintly heard, is never dropped
    keyword = match_keyword(speech)
    if keyword is Keyword.nurse:
        return NURSE, NURSE_KEY_TEXT
    if keyword is Keyword.help or normalize(speech) in _REPEAT_WORDS:
        return REPEAT, ""
    if keyword in (Keyword.stop, Keyword.start):
        return TEXT, ""  # text-message opt-out words mean nothing on a call: never opt a caller out by voice
    return TEXT, speech


# --- the language offer ----------------------------------------------------------------------------


def _language_offer(call: _Call, tries: int = 0) -> VoiceTurn:
    """The greeting in the caller's language (English unless we know better), then the other language offered
    in that language's own voice; a Gather of its own, listening in the language offered."""
    own = call.language if call.language in call.flow.languages else "en"
    offered = "en" if own == "es" else "es"
    if offered not in call.flow.languages or own not in call.flow.languages:
        return _first_turn(call)  # a flow in one language: nothing to offer
    call.hear("greeting", call.word("greeting", own))
    call.hear("language_offer", call.word("language_offer", offered))
    return _finish(call, VoiceTurn(tuple(call.said), GATHER, LANGUAGE, call.step, tries, LANGUAGE_HINTS,
                                   language=offered, voices=(own, offered)))


def _language_answer(call: _Call, heard: Heard, tries: int) -> VoiceTurn:
    """1 English, 2 Spanish (or the word said); nothing, or any other key, keeps the caller's language.
    Anything else said is the caller's first words, read as a first text is: a red flag escalates."""
    state = State.from_json(call.conversation.state)
    if call.conversation.status != ACTIVE or state.node is not None or state.outcome is not None:
        return _resume(call)  # a late callback: the call has moved on
    chosen = LANGUAGE_KEYS.get(heard.digits or "")
    meaning, text = _meaning(call.flow, heard)
    keyword = match_keyword(text) if text else None
    if keyword in (Keyword.spanish, Keyword.english):
        chosen = "es" if keyword is Keyword.spanish else "en"
    if chosen is not None and chosen in call.flow.languages:
        return _first_turn(call, LANGUAGE_KEYWORDS[chosen])  # the engine's own way to choose (as by SMS)
    if meaning == REPEAT:
        return _language_offer(call, tries + 1)
    if meaning == NURSE:
        return _first_turn(call, heard.speech or NURSE_KEY_TEXT)  # "enfermera" also says which language
    return _first_turn(call, "" if heard.digits else text)


# --- questions --------------------------------------------------------------------------------------


def _question_answer(call: _Call, heard: Heard) -> VoiceTurn:
    state = State.from_json(call.conversation.state)
    if call.conversation.status != ACTIVE or state.node is None:
        return _closing_turn(call)  # a late callback for a question already behind us
    meaning, text = _meaning(call.flow, heard, call.flow.nodes.get(state.node))
    if meaning == REPEAT:
        call.hear(state.node, prompt(call.flow, state.node, call.language, Env(call.svc.context, "voice")))
        return _finish(call, _question_turn(call))
    result = step(call.flow, state, text, call.svc.context, channel="voice")
    if any(m.key == "offer_nurse" for m in result.messages):
        # Three misses at a question outside the screen: not another loop, a nurse.
        call.hear("still_unclear", call.word("still_unclear"))
        result = step(call.flow, state, NURSE_KEY_TEXT, call.svc.context, channel="voice")
        reason = "caller's answers not understood (voice)"
        result = Result(result.state, result.messages,
                        [replace(a, reason=reason) if isinstance(a, Escalate) else a for a in result.actions])
    missed = result.state.node == state.node and result.state.misses > state.misses
    if missed and heard.speech and _first_words(call, state):
        # What a caller says first ("hi, my back went into spasm") is their opening, as a first text is:
        # asked again, but not counted against them.
        result, missed = Result(result.state.evolve(misses=state.misses), result.messages, result.actions), False
    return _after_step(call, result, missed=missed)


def _first_words(call: _Call, state: State) -> bool:
    if state.answers or state.misses:
        return False
    spoken = call.session.scalars(select(Message.id).where(Message.conversation_id == call.conversation.id,
                                                           Message.kind == "answer").limit(2)).all()
    return len(spoken) == 1  # only the answer recorded for this callback


def _after_step(call: _Call, result: Result, missed: bool = False, settled: bool = False) -> VoiceTurn:
    """Save what the engine decided, then say it: the next question, or the outcome and what follows."""
    # Check-ins are texts: on a call they wait for the caller to accept the text offer.
    actions = [a for a in result.actions if not isinstance(a, ScheduleCheckin)]
    apply(call.svc, call.session, call.flow, call.conversation, call.patient,
          Result(result.state, result.messages, actions), call.now)
    offer_nurse = missed and result.state.misses >= max(call.flow.reask_limit, 1)
    for message in result.messages:
        if offer_nurse and message.key == result.state.node:
            call.hear("press_nurse", call.word("press_nurse"))
        call.hear(message.key, message.text)
    if result.state.status == ACTIVE and result.state.node is not None:
        return _finish(call, _question_turn(call))
    if result.state.status == DONE and result.state.outcome and not settled:
        return _after_outcome(call, [m.key for m in result.messages])
    return _closing_turn(call)


def _question_turn(call: _Call) -> VoiceTurn:
    node = call.flow.nodes.get(call.conversation.node or "")
    hints = tuple(localize(c.label, call.language) for c in node.choices) if isinstance(node, Question) else ()
    return VoiceTurn(tuple(call.said), GATHER, QUESTION, call.step, hints=hints, language=call.language)


# --- outcomes ----------------------------------------------------------------------------------------


def _after_outcome(call: _Call, keys: list[str]) -> VoiceTurn:
    flow, conversation = call.flow, call.conversation
    level = Level(conversation.level) if conversation.level else Level.home_care
    outcome = conversation.outcome or ""
    node = flow.nodes.get(outcome)
    put_through = isinstance(node, Outcome) and node.put_through
    if level.disposition == "emergency" or outcome in (flow.nurse_outcome, flow.unclear_outcome) or put_through:
        return _dial_turn(call)
    if isinstance(node, Outcome) and (node.checkins or level is Level.home_care):
        if _textable(call.patient):
            _stage_advice(call, keys)
            call.hear("text_offer", call.word("text_offer"))
            return _finish(call, VoiceTurn(tuple(call.said), GATHER, OFFER, call.step, hints=("yes", "no"),
                                           language=call.language))
        if call.patient.phone is None:
            call.hear("text_hidden", call.word("text_hidden"))
    return _closing_turn(call)


def _closing_turn(call: _Call, tries: int = 0) -> VoiceTurn:
    call.hear("closing", call.word("closing"))
    return _finish(call, VoiceTurn(tuple(call.said), GATHER, CLOSING, call.step, tries=tries, language=call.language))


def _goodbye(call: _Call) -> VoiceTurn:
    call.hear("goodbye", call.word("goodbye"))
    return _finish(call, VoiceTurn(tuple(call.said), HANGUP, language=call.language))


def _dial_turn(call: _Call) -> VoiceTurn:
    """Put the caller through to the nurse the case was paged to (the page itself is already queued)."""
    case = open_case_for(call.session, call.conversation.id)
    chain = call.svc.roster.chain(call.now)
    nurse = (case.nurse_phone if case is not None else None) or (chain[0].phone if chain else None)
    if case is None or nurse is None:
        call.hear("no_nurse", call.word("no_nurse"), call.word("goodbye"))
        return _finish(call, VoiceTurn(tuple(call.said), HANGUP, language=call.language))
    audit(call.session, case, "call_transfer", call.now, detail=f"dialling nurse {mask(nurse)}")
    call.hear("connecting", call.word("connecting"))
    return _finish(call, VoiceTurn(tuple(call.said), DIAL, step=call.step, case_id=case.id, nurse_phone=nurse,
                                   language=call.language))


def _closing_answer(call: _Call, heard: Heard, tries: int) -> VoiceTurn:
    meaning, text = _meaning(call.flow, heard)
    if meaning == NURSE or (text and detect(call.flow, text)):
        return _to_engine(call, text)
    if meaning == REPEAT:
        return _closing_turn(call, tries)
    if heard.how == "silence" and tries + 1 < OFFER_TRIES:
        return _closing_turn(call, tries + 1)
    return _goodbye(call)


def _to_engine(call: _Call, text: str) -> VoiceTurn:
    """After the outcome: a nurse request, or a red flag said at the last prompt, goes through the engine."""
    state = State.from_json(call.conversation.state)
    result = step(call.flow, state, text, call.svc.context, channel="voice")
    return _after_step(call, result, settled=result.state.outcome == state.outcome)


# --- the offer to text the advice ------------------------------------------------------------------------


def _textable(patient: Patient) -> bool:
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


def _stage_advice(call: _Call, keys: list[str]) -> None:
    """The full written advice (the SMS wording of what was just said), stored but not sent until accepted."""
    parts = [call.word("advice_header")]
    parts += [node_text(call.flow, key, "sms", call.language, call.svc.context) for key in keys
              if isinstance(call.flow.nodes.get(key), (Info, Outcome))]
    if not call.patient.privacy_notice_sent:
        parts.append(localize(call.flow.messages.privacy, call.language, call.svc.context))
    parts.append(call.word("advice_footer"))
    assert call.patient.phone is not None
    for body in split_for_sms(["\n\n".join(parts)]):
        message = queue_sms(call.session, to=call.patient.phone, body=body, kind="advice", now=call.now,
                            patient_id=call.patient.id, conversation_id=call.conversation.id, key="voice_advice")
        message.status, message.next_attempt_at = "offered", None  # the outbox leaves it alone until accepted


def _offer_answer(call: _Call, heard: Heard, tries: int) -> VoiceTurn:
    meaning, text = _meaning(call.flow, heard)
    if meaning == NURSE or (text and detect(call.flow, text)):
        _settle_advice(call, accepted=False)
        return _to_engine(call, text)
    if meaning == REPEAT:
        call.hear("text_offer", call.word("text_offer"))
        return _finish(call, VoiceTurn(tuple(call.said), GATHER, OFFER, call.step, tries, ("yes", "no"),
                                       language=call.language))
    answer = parse_answer(_YES_NO, text) if text else None
    if answer is None and tries + 1 < OFFER_TRIES:
        call.hear("unclear", localize(call.flow.messages.unclear, call.language), call.word("text_offer"))
        return _finish(call, VoiceTurn(tuple(call.said), GATHER, OFFER, call.step, tries + 1, ("yes", "no"),
                                       language=call.language))
    if answer == "yes" and _settle_advice(call, accepted=True):
        call.hear("text_accepted", call.word("text_accepted"))
    else:
        _settle_advice(call, accepted=False)  # no clear yes is a no: no texts without consent
        call.hear("text_declined", call.word("text_declined"))
    return _goodbye(call)


def _settle_advice(call: _Call, *, accepted: bool) -> bool:
    """Send (and start the check-ins) or drop the staged advice. False when there was nothing to send."""
    staged = list(call.session.scalars(select(Message).where(Message.conversation_id == call.conversation.id,
                                                             Message.status == "offered")))
    if not accepted or not staged or not _textable(call.patient):
        for message in staged:
            message.status = "declined"
        return False
    for message in staged:
        message.status, message.next_attempt_at = "queued", call.now
    call.patient.privacy_notice_sent = True
    # The advice text carried the notice: a text reply on this conversation (a check-in) must not repeat it.
    call.conversation.state = State.from_json(call.conversation.state).evolve(privacy_notice_sent=True).to_json()
    outcome = call.flow.nodes.get(call.conversation.outcome or "")
    if isinstance(outcome, Outcome):
        for plan in outcome.checkins:  # the same check-ins an SMS patient gets
            schedule(call.session, call.conversation, call.patient, plan.ask, call.now + plan.after, call.now)
    log.info("voice.advice_texted conversation=%s", call.conversation.id)
    return True


# --- the nurse's side ----------------------------------------------------------------------------------


def _case_of(call: _Call, case_id: int | None) -> Escalation | None:
    case = call.session.get(Escalation, case_id) if case_id else None
    if case is None or case.conversation_id != call.conversation.id:
        return open_case_for(call.session, call.conversation.id)
    return case


def _screen_declined(session: Session, case: Escalation, call_sid: str) -> bool:
    return session.scalar(select(EscalationEvent.id).where(EscalationEvent.escalation_id == case.id,
                                                           EscalationEvent.event == "call_declined",
                                                           EscalationEvent.detail == call_sid).limit(1)) is not None


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


def _text(call: _Call, node_id: str) -> str:
    return node_text(call.flow, node_id, "voice", call.language, call.svc.context)


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
