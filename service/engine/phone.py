"""The phone menu: what a caller's keys or words mean at each point of a call, and what the line says back.

Pure, like the engine beside it: no database, Flask or Twilio. One Gather result is decided as (the values
are in engine/phone_turns.py)

    (flow, the conversation's State, what the runtime knows of the caller, where the call is, what was heard)
    -> Decision: what the caller hears and what happens next (a VoiceTurn), the engine's Result to save and
       carry out, and what becomes of the written advice (stage it, send it, drop it)

service/runtime/calls.py runs it inside each callback's transaction. Where a call can be:

    LANGUAGE  the short language offer before the first question (its keys never answer one)
    QUESTION  a question of the flow: keys or speech go through engine.step(channel="voice")
    OFFER     after a home-care outcome: get the advice by text? (no clear yes is a no: no consent, no texts)
    CLOSING   the last prompt (0 for a nurse, or hang up): a red flag said here still goes through the engine

Everywhere: 9 (or "repeat") hears it again, 0 (or "nurse") asks for the nurse, speech heard less surely
than MIN_CONFIDENCE is asked again unless it names a red flag. Every phrase comes from the flow's `voice_*`
messages (flows/shared/universal.yaml and its Spanish file) through `phone_phrase`.
"""

from __future__ import annotations

from dataclasses import replace

from .answers import parse_answer
from .flow import Choice, Info, Level, Outcome, Question
from .keywords import Keyword, match_keyword
from .phone_turns import (
    CLOSING,
    DIAL,
    GATHER,
    HANGUP,
    LANGUAGE,
    NURSE,
    NURSE_KEY_TEXT,
    OFFER,
    QUESTION,
    RECORD,
    REPEAT,
    Call,
    Decision,
    Heard,
    VoiceTurn,
    meaning,
    phone_phrase,
)
from .redflags import detect
from .render import Env, localize, node_text, prompt
from .state import ACTIVE, DONE, Escalate, Result, ScheduleCheckin, SetLanguage, State
from .step import goto_outcome, step
from .timed import GIVE_UP, awaiting_screening, on_silence

OFFER_TRIES = 2  # unanswered text offers (and closing prompts) before we take it as "no"
# The language offer is its own short Gather before the first question, so its keys never answer one
# (2 is "No" at every question). The words the engine takes as choosing a language (engine/keywords.py).
LANGUAGE_KEYS = {"1": "en", "2": "es"}
LANGUAGE_KEYWORDS = {"en": "ENGLISH", "es": "ESPAÑOL"}
# Recognition vocabulary, never said to a caller: what the speech recogniser should expect to hear.
LANGUAGE_HINTS = ("español", "Spanish", "English", "inglés")
YES_NO_HINTS = ("yes", "no")
_YES_NO = Question(type="question", text={"en": "text offer"}, choices=[
    Choice(id="yes", label={"en": "Yes"}, next="-"), Choice(id="no", label={"en": "No"}, next="-")])


class _Line:
    """A decision being made: what is said so far, in which language, and what the runtime must do."""

    def __init__(self, call: Call) -> None:
        self.flow, self.state, self.caller, self.context = call.flow, call.state, call.caller, call.context
        self.language = call.caller.language
        self.said: list[str] = []
        self.keys: list[str] = []
        self.result: Result | None = None
        self.advice: str | None = None
        self.send_advice: bool | None = None
        self.checkins: tuple[ScheduleCheckin, ...] = ()

    def word(self, name: str, language: str | None = None) -> str:
        return phone_phrase(self.flow, name, language or self.language, self.context)

    def hear(self, key: str, *texts: str) -> None:
        self.said += [t for t in texts if t]
        self.keys.append(key)

    def then(self, then: str, at: str = QUESTION, *, tries: int = 0, hints: tuple[str, ...] = (),
             case_id: int | None = None, nurse_phone: str | None = None, finally_say: tuple[str, ...] = (),
             language: str | None = None, voices: tuple[str, ...] = (), transfer: bool = False) -> Decision:
        turn = VoiceTurn(tuple(self.said), then, at, self.caller.step if then in (GATHER, DIAL) else 0, tries, hints,
                         case_id, nurse_phone, finally_say, language or self.language, voices)
        return Decision(turn, tuple(self.keys), result=self.result, advice=self.advice, send_advice=self.send_advice,
                        checkins=self.checkins, transfer=transfer)


# --- entry points: one per kind of callback ----------------------------------------------------------


def opening(call: Call) -> Decision:
    """A new call: the language offer (or, for a flow in one language, the first question)."""
    return _language_offer(_Line(call))


def begin(call: Call) -> Decision:
    """The welcome, the keypad controls once, then the first question (a call whose start we never saw)."""
    return _first_turn(_Line(call))


def resume(call: Call) -> Decision:
    """The call is known but this callback is not: say where the caller is, without moving on."""
    return _resume(_Line(call))


def answer(call: Call, at: str, tries: int, heard: Heard) -> Decision:
    """A Gather result (keys, speech or silence) for the language offer, a question, the text offer or the
    closing prompt. `tries`: unanswered prompts so far, as the last turn carried them."""
    line = _Line(call)
    if at == LANGUAGE:
        return _language_answer(line, heard, tries)
    if at == OFFER:
        return _offer_answer(line, heard, tries)
    if at == CLOSING:
        return _closing_answer(line, heard, tries)
    return _question_answer(line, heard)


def connect(call: Call, decision: Decision, case_id: int | None, nurse_phone: str | None) -> Decision:
    """A transfer, once the runtime knows the case and the nurse it was paged to (None: nobody to dial)."""
    line = _Line(call)
    line.language, line.said, line.keys = decision.turn.language, list(decision.turn.say), list(decision.keys)
    if case_id is None or nurse_phone is None:
        line.hear("no_nurse", line.word("no_nurse"), line.word("goodbye"))
        ended = line.then(HANGUP)
    else:
        line.hear("connecting", line.word("connecting"))
        ended = line.then(DIAL, case_id=case_id, nurse_phone=nurse_phone)
    return replace(decision, turn=ended.turn, keys=ended.keys, transfer=False)


def after_dial(call: Call, *, talked: bool, case_id: int | None) -> Decision:
    """The <Dial> to the nurse ended: goodbye if they talked, otherwise a voicemail for the nurse."""
    line = _Line(call)
    if talked:
        line.hear("after_nurse", line.word("after_nurse"), line.word("goodbye"))
        return line.then(HANGUP)
    line.hear("nurse_unanswered", line.word("nurse_unanswered"))
    outcome, level = call.state.outcome, call.state.level or Level.home_care
    if outcome and level.disposition == "emergency":  # the emergency advice again, before the voicemail
        line.hear(outcome, node_text(call.flow, outcome, "voice", line.language, call.context))
    line.hear("voicemail_prompt", line.word("voicemail_prompt"))
    return line.then(RECORD, case_id=case_id, finally_say=(line.word("no_voicemail"), line.word("goodbye")))


def after_voicemail(call: Call, *, left: bool) -> Decision:
    line = _Line(call)
    if left:
        line.hear("voicemail_thanks", line.word("voicemail_thanks"), line.word("goodbye"))
    else:
        line.hear("no_voicemail", line.word("no_voicemail"), line.word("goodbye"))
    return line.then(HANGUP)


def hung_up(call: Call, status: str) -> Result | None:
    """The caller hung up. Inside the red-flag screen, after answering something, that is an SMS patient who
    stopped replying: an incomplete screen, so a nurse callback (and no texts the caller did not agree to)."""
    if not awaiting_screening(call.flow, call.state) or not call.state.answers:
        return None
    result = on_silence(call.flow, call.state, GIVE_UP, call.context)
    reason = f"caller hung up before finishing the screening (call {status or 'ended'})"
    return Result(result.state, [], [replace(a, reason=reason) if isinstance(a, Escalate) else a
                                     for a in result.actions if not isinstance(a, ScheduleCheckin)])


def missed_call(call: Call) -> Result:
    """A call the line could not take (the database was down: Twilio's fallback URL answered it and it waited
    in the spool). Nobody heard the caller: a nurse calls back, as for a screen left unfinished (no texts)."""
    reason = "called while the line was down (answered by the fallback URL): call the patient back"
    result = goto_outcome(call.flow, call.state, call.flow.unclear_outcome, (), reason, (), Env(call.context, "voice"))
    return Result(result.state, [], [a for a in result.actions if not isinstance(a, ScheduleCheckin)])


# --- what the caller's keys or words mean ------------------------------------------------------------

# --- the language offer and the first question ------------------------------------------------------


def _language_offer(line: _Line, tries: int = 0) -> Decision:
    """The greeting in the caller's language (English unless we know better), then the other language offered
    in that language's own voice; a Gather of its own, listening in the language offered."""
    languages = line.flow.languages
    own = line.language if line.language in languages else "en"
    offered = "en" if own == "es" else "es"
    if offered not in languages or own not in languages:
        return _first_turn(line)  # a flow in one language: nothing to offer
    line.hear("greeting", line.word("greeting", own))
    line.hear("language_offer", line.word("language_offer", offered))
    return line.then(GATHER, LANGUAGE, tries=tries, hints=LANGUAGE_HINTS, language=offered, voices=(own, offered))


def _language_answer(line: _Line, heard: Heard, tries: int) -> Decision:
    """1 English, 2 Spanish (or the word said); nothing, or any other key, keeps the caller's language.
    Anything else said is the caller's first words, read as a first text is: a red flag escalates."""
    state = line.state
    if line.caller.status != ACTIVE or state.node is not None or state.outcome is not None:
        return _resume(line)  # a late callback: the call has moved on
    chosen = LANGUAGE_KEYS.get(heard.digits or "")
    heard_as, text = meaning(line.flow, heard)
    keyword = match_keyword(text) if text else None
    if keyword in (Keyword.spanish, Keyword.english):
        chosen = "es" if keyword is Keyword.spanish else "en"
    if chosen is not None and chosen in line.flow.languages:
        return _first_turn(line, LANGUAGE_KEYWORDS[chosen])  # the engine's own way to choose (as by SMS)
    if heard_as == REPEAT:
        return _language_offer(line, tries + 1)
    if heard_as == NURSE:
        return _first_turn(line, heard.speech or NURSE_KEY_TEXT)  # "enfermera" also says which language
    return _first_turn(line, "" if heard.digits else text)


def _first_turn(line: _Line, text: str = "") -> Decision:
    """The welcome, the keypad controls once, then the first question. `text` is what the caller said or chose
    at the language offer, read by the engine as a first text is (a language keyword, a red flag, NURSE)."""
    result = step(line.flow, line.state, text, line.context, channel="voice")
    if result.state.status != ACTIVE or result.state.node is None:
        return _after_step(line, result)  # an emergency or a nurse at once: no menu to explain
    # The keypad controls, said once: after the welcome, before the first question (in the language chosen).
    controls = localize(line.flow.messages.voice_controls, result.state.language, line.context)
    messages = list(result.messages)
    at = next((i for i, m in enumerate(messages) if m.key == result.state.node), len(messages))
    for message in messages[:at]:
        line.hear(message.key, message.text)
    line.hear("voice_controls", controls)
    return _after_step(line, Result(result.state, messages[at:], result.actions))


def _resume(line: _Line) -> Decision:
    node = line.state.node
    if line.caller.status == ACTIVE and node is not None:
        line.hear(node, prompt(line.flow, node, line.language, Env(line.context, "voice")))
        return _question_turn(line, node)
    if line.caller.status == ACTIVE and line.state.outcome is None:
        return _language_offer(line)  # not past the language offer yet
    return _closing_turn(line)


# --- questions --------------------------------------------------------------------------------------


def _question_answer(line: _Line, heard: Heard) -> Decision:
    state, flow = line.state, line.flow
    if line.caller.status != ACTIVE or state.node is None:
        return _closing_turn(line)  # a late callback for a question already behind us
    heard_as, text = meaning(flow, heard, flow.nodes.get(state.node))
    if heard_as == REPEAT:
        line.hear(state.node, prompt(flow, state.node, line.language, Env(line.context, "voice")))
        return _question_turn(line, state.node)
    result = step(flow, state, text, line.context, channel="voice")
    if any(m.key == "offer_nurse" for m in result.messages):
        # Three misses at a question outside the screen: not another loop, a nurse.
        line.hear("still_unclear", line.word("still_unclear"))
        result = step(flow, state, NURSE_KEY_TEXT, line.context, channel="voice")
        reason = "caller's answers not understood (voice)"
        result = Result(result.state, result.messages,
                        [replace(a, reason=reason) if isinstance(a, Escalate) else a for a in result.actions])
    missed = result.state.node == state.node and result.state.misses > state.misses
    if missed and heard.speech and not state.answers and not state.misses and line.caller.first_answer:
        # What a caller says first ("hi, my back went into spasm") is their opening, as a first text is:
        # asked again, but not counted against them.
        result, missed = Result(result.state.evolve(misses=state.misses), result.messages, result.actions), False
    return _after_step(line, result, missed=missed)


def _after_step(line: _Line, result: Result, missed: bool = False, settled: bool = False) -> Decision:
    """Keep what the engine decided (to save), then say it: the next question, or the outcome and what follows."""
    # Check-ins are texts: on a call they wait for the caller to accept the text offer.
    actions = [a for a in result.actions if not isinstance(a, ScheduleCheckin)]
    line.result = Result(result.state, result.messages, actions)
    for action in actions:  # what the line speaks from here on (the runtime saves it as the patient's)
        if isinstance(action, SetLanguage):
            line.language = action.language
    offer_nurse = missed and result.state.misses >= max(line.flow.reask_limit, 1)
    for message in result.messages:
        if offer_nurse and message.key == result.state.node:
            line.hear("press_nurse", line.word("press_nurse"))
        line.hear(message.key, message.text)
    if result.state.status == ACTIVE and result.state.node is not None:
        return _question_turn(line, result.state.node)
    if result.state.status == DONE and result.state.outcome and not settled:
        return _after_outcome(line, result.state, [m.key for m in result.messages])
    return _closing_turn(line)


def _question_turn(line: _Line, node_id: str) -> Decision:
    node = line.flow.nodes.get(node_id)
    hints = tuple(localize(c.label, line.language) for c in node.choices) if isinstance(node, Question) else ()
    return line.then(GATHER, QUESTION, hints=hints)


# --- outcomes, the text offer and the closing prompt -------------------------------------------------


def _after_outcome(line: _Line, state: State, keys: list[str]) -> Decision:
    flow, outcome = line.flow, state.outcome or ""
    level = state.level or Level.home_care
    node = flow.nodes.get(outcome)
    put_through = isinstance(node, Outcome) and node.put_through
    if level.disposition == "emergency" or outcome in (flow.nurse_outcome, flow.unclear_outcome) or put_through:
        return line.then(DIAL, transfer=True)  # the page itself is already among the result's actions
    if isinstance(node, Outcome) and (node.checkins or level is Level.home_care):
        if line.caller.textable:
            line.advice = _advice(line, state, keys)
            line.hear("text_offer", line.word("text_offer"))
            return line.then(GATHER, OFFER, hints=YES_NO_HINTS)
        if line.caller.hidden:
            line.hear("text_hidden", line.word("text_hidden"))
    return _closing_turn(line)


def _advice(line: _Line, state: State, keys: list[str]) -> str:
    """The full written advice: the SMS wording of what was just said (sent only if the caller accepts)."""
    parts = [line.word("advice_header")]
    parts += [node_text(line.flow, key, "sms", line.language, line.context) for key in keys
              if isinstance(line.flow.nodes.get(key), (Info, Outcome))]
    if not (line.caller.privacy_notice_sent or state.privacy_notice_sent):
        parts.append(localize(line.flow.messages.privacy, line.language, line.context))
    parts.append(line.word("advice_footer"))
    return "\n\n".join(parts)


def _offer_answer(line: _Line, heard: Heard, tries: int) -> Decision:
    heard_as, text = meaning(line.flow, heard)
    if heard_as == NURSE or (text and detect(line.flow, text)):
        line.send_advice = False
        return _to_engine(line, text)
    if heard_as == REPEAT:
        line.hear("text_offer", line.word("text_offer"))
        return line.then(GATHER, OFFER, tries=tries, hints=YES_NO_HINTS)
    said = parse_answer(_YES_NO, text) if text else None
    if said is None and tries + 1 < OFFER_TRIES:
        line.hear("unclear", localize(line.flow.messages.unclear, line.language), line.word("text_offer"))
        return line.then(GATHER, OFFER, tries=tries + 1, hints=YES_NO_HINTS)
    if said == "yes" and line.caller.advice_offered and line.caller.textable:
        line.send_advice = True
        outcome = line.flow.nodes.get(line.state.outcome or "")
        if isinstance(outcome, Outcome):  # the same check-ins an SMS patient gets
            line.checkins = tuple(ScheduleCheckin(plan.ask, plan.after) for plan in outcome.checkins)
        line.hear("text_accepted", line.word("text_accepted"))
    else:
        line.send_advice = False  # no clear yes is a no: no texts without consent
        line.hear("text_declined", line.word("text_declined"))
    return _goodbye(line)


def _closing_answer(line: _Line, heard: Heard, tries: int) -> Decision:
    heard_as, text = meaning(line.flow, heard)
    if heard_as == NURSE or (text and detect(line.flow, text)):
        return _to_engine(line, text)
    if heard_as == REPEAT:
        return _closing_turn(line, tries)
    if heard.how == "silence" and tries + 1 < OFFER_TRIES:
        return _closing_turn(line, tries + 1)
    return _goodbye(line)


def _to_engine(line: _Line, text: str) -> Decision:
    """After the outcome: a nurse request, or a red flag said at the last prompt, goes through the engine."""
    result = step(line.flow, line.state, text, line.context, channel="voice")
    return _after_step(line, result, settled=result.state.outcome == line.state.outcome)


def _closing_turn(line: _Line, tries: int = 0) -> Decision:
    line.hear("closing", line.word("closing"))
    return line.then(GATHER, CLOSING, tries=tries)


def _goodbye(line: _Line) -> Decision:
    line.hear("goodbye", line.word("goodbye"))
    return line.then(HANGUP)
