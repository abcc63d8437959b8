"""The flow engine: (flow, state, input) -> (new state, messages, actions). Pure: no I/O, no clock.

Order of precedence for an inbound text, safest first:
1. keywords (STOP must always work);
2. red-flag phrases anywhere in the text (escalate even if not asked yet);
3. the answer to the question the patient is at (re-asked when unclear, never guessed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .answers import is_yes_no, parse_answer
from .flow import Flow, FreeText, Info, Level, Outcome, Question, most_urgent
from .keywords import Keyword, match_keyword
from .language import detect_language
from .redflags import Finding, detect
from .state import (
    ACTIVE,
    DONE,
    STOPPED,
    Action,
    CancelCheckins,
    Escalate,
    ForwardToNurse,
    Message,
    OptIn,
    OptOut,
    Result,
    ScheduleCheckin,
    SetLanguage,
    State,
)

Context = Mapping[str, str]
_MAX_CHAIN = 50  # info -> info -> ... guard; lint already rejects loops without an outcome


class _Safe(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


def localize(text: Mapping[str, str], lang: str, context: Context | None = None) -> str:
    body = text.get(lang) or text.get("en") or next(iter(text.values()))
    return body.format_map(_Safe(context or {}))


def node_text(flow: Flow, node_id: str, channel: str, lang: str, context: Context | None = None) -> str:
    node = flow.nodes[node_id]
    override = getattr(node.channels, channel, None) if channel in ("sms", "voice") else None
    return localize(override or node.text, lang, context)


def sms_question(flow: Flow, node_id: str, lang: str, context: Context | None = None) -> str:
    node = flow.nodes[node_id]
    body = node_text(flow, node_id, "sms", lang, context)
    if not isinstance(node, Question):
        return body
    return f"{body} {sms_reply_hint(flow, node_id, lang)}"


def sms_reply_hint(flow: Flow, node_id: str, lang: str) -> str:
    """How to answer a question by text: 'Reply YES or NO.' or 'Reply 1 Better, 2 Same, 3 Worse.'"""
    node = flow.nodes[node_id]
    assert isinstance(node, Question), node_id
    if is_yes_no(node):
        return localize(flow.messages.sms_yes_no, lang)
    options = ", ".join(f"{i} {localize(c.label, lang)}" for i, c in enumerate(node.choices, 1))
    return localize(flow.messages.sms_choices, lang, {"options": options})


@dataclass(frozen=True)
class Env:
    """What rendering needs besides the flow: placeholder values and the channel (sms | voice)."""

    values: Context
    channel: str = "sms"


def voice_question(flow: Flow, node_id: str, lang: str, context: Context | None = None) -> str:
    """The question as a caller hears it: the voice wording, then each keypad option."""
    node = flow.nodes[node_id]
    body = node_text(flow, node_id, "voice", lang, context)
    if not isinstance(node, Question):
        return body
    options = [localize(flow.messages.voice_option, lang, {"label": localize(c.label, lang), "key": str(i)})
               for i, c in enumerate(node.choices, 1)]
    return " ".join([body, *options])


def prompt(flow: Flow, node_id: str, lang: str, env: Env) -> str:
    if env.channel == "voice":
        return voice_question(flow, node_id, lang, env.values)
    return sms_question(flow, node_id, lang, env.values)


def step(flow: Flow, state: State, text: str, context: Context | None = None, channel: str = "sms") -> Result:
    """Handle one inbound text (SMS body, or a caller's speech or keypress turned into text)."""
    env = Env(context or {}, channel)
    state, chosen = _language_at_start(flow, state, text)
    result = _step(flow, state, text, env)
    if chosen is not None and not any(isinstance(a, SetLanguage) for a in result.actions):
        result = Result(result.state, result.messages, [SetLanguage(chosen), *result.actions])
    if result.state.privacy_notice_sent or not result.messages or result.state.status == STOPPED \
            or channel != "sms":
        return result
    # Told once, in the first reply: texts are not encrypted; emergencies go to 911 (HIPAA, references.md).
    notice = _msg(flow, "privacy", result.state, env)
    messages = [result.messages[0], notice, *result.messages[1:]]
    return Result(result.state.evolve(privacy_notice_sent=True), messages, result.actions)


def _language_at_start(flow: Flow, state: State, text: str) -> tuple[State, str | None]:
    """The first message of a conversation, when clearly Spanish, makes the conversation Spanish."""
    if state.node is not None or state.outcome is not None or state.answers:
        return state, None
    language = detect_language(text)
    if language is None or language == state.language or language not in flow.languages:
        return state, None
    return state.evolve(language=language), language


def _step(flow: Flow, state: State, text: str, env: Env) -> Result:
    keyword = match_keyword(text)
    if keyword is not None:
        return _keyword(flow, state, keyword, env)
    if state.status == STOPPED:
        state = State(language=state.language, privacy_notice_sent=state.privacy_notice_sent)
    findings = detect(flow, text)
    if findings:
        return _red_flag(flow, state, findings, text, env)
    if state.node is None:
        if state.status == DONE:
            return Result(state, [_msg(flow, "after_outcome", state, env)], [])
        return _enter(flow, state.evolve(status=ACTIVE), flow.start, env)
    return _answer(flow, state, text, env)


def begin_checkin(flow: Flow, state: State, ask: str, context: Context | None = None) -> Result:
    """A scheduled check-in is due: ask its question; the reply runs through step()."""
    state = state.evolve(node=ask, status=ACTIVE, misses=0)
    return Result(state, [Message(ask, sms_question(flow, ask, state.language, context))], [])


def remind_checkin(flow: Flow, state: State, context: Context | None = None) -> Result:
    """No reply to a check-in yet: one reminder saying how to answer; the question stays open."""
    asking = isinstance(flow.nodes.get(state.node or ""), Question)
    hint = sms_reply_hint(flow, state.node, state.language) if asking else ""  # type: ignore[arg-type]
    return Result(state, [_msg(flow, "checkin_reminder", state, Env(context or {}), options=hint)], [])


REMIND, GIVE_UP = "remind", "give_up"


def awaiting_screening(flow: Flow, state: State) -> bool:
    """Waiting for an answer inside the red-flag screen, where silence must not be the end."""
    node = flow.nodes.get(state.node) if state.node else None
    return state.status == ACTIVE and isinstance(node, (Question, FreeText)) and node.screening


def on_silence(flow: Flow, state: State, stage: str, context: Context | None = None) -> Result:
    """The patient stopped replying mid-screen: one reminder, then a nurse callback (incomplete screen)."""
    if not awaiting_screening(flow, state):
        return Result(state, [], [])
    env = Env(context or {}, "sms")
    if stage == REMIND:
        # The reminder names no symptom (privacy): the question it refers to is just above it.
        return Result(state, [_msg(flow, "silence_reminder", state, env)], [])
    reason = "could not complete screening: patient stopped replying"
    return _goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)


def _msg(flow: Flow, name: str, state: State, env: Env, **extra: str) -> Message:
    return Message(name, localize(getattr(flow.messages, name), state.language, {**env.values, **extra}))


def _keyword(flow: Flow, state: State, keyword: Keyword, env: Env) -> Result:
    if keyword is Keyword.stop:
        return Result(state.evolve(status=STOPPED, node=None), [_msg(flow, "stop", state, env)],
                      [OptOut(), CancelCheckins()])
    if keyword is Keyword.start:
        return Result(state, [_msg(flow, "start", state, env)], [OptIn()])
    if keyword is Keyword.help:
        return Result(state, [_msg(flow, "help", state, env), *_repeat(flow, state, env)], [])
    if keyword is Keyword.nurse:
        return _goto_outcome(flow, state, flow.nurse_outcome, (), "patient asked for a nurse", (), env)
    if keyword is Keyword.restart:
        fresh = State(language=state.language, privacy_notice_sent=state.privacy_notice_sent)
        return _enter(flow, fresh, flow.start, env)
    language = "es" if keyword is Keyword.spanish else "en"
    if language not in flow.languages:
        language = state.language
    switched = state.evolve(language=language)
    if switched.node is None and switched.status == ACTIVE and switched.outcome is None:
        # The very first text chose the language: start the questions in it.
        entered = _enter(flow, switched, flow.start, env)
        return Result(entered.state, entered.messages, [SetLanguage(language), *entered.actions])
    return Result(switched, _repeat(flow, switched, env) or [_msg(flow, "help", switched, env)],
                  [SetLanguage(language)])


def _repeat(flow: Flow, state: State, env: Env) -> list[Message]:
    if state.node is None or state.status != ACTIVE:
        return []
    return [Message(state.node, prompt(flow, state.node, state.language, env))]


def _red_flag(flow: Flow, state: State, findings: list[Finding], text: str, env: Env) -> Result:
    worst = findings[0]
    flags = tuple(f.flag for f in findings)
    quotes = tuple(f.quote for f in findings)
    if state.status == DONE and state.level is not None and state.level.rank >= worst.level.rank \
            and state.level.pages_nurse:
        # Already with a nurse at this urgency or higher: reassure and pass the words on.
        return Result(state.evolve(red_flags=_merge(state.red_flags, flags)),
                      [_msg(flow, "open_emergency", state, env)], [ForwardToNurse(" / ".join(quotes))])
    reason = "red flag in the patient's own words"
    if worst.level.disposition == "emergency" or state.status == DONE:
        return _goto_outcome(flow, state, flow.level_outcomes[worst.level], flags, reason, quotes, env)
    # Not an emergency: finish the screen (an emergency may still be found), then end no lower than this.
    state = state.evolve(red_flags=_merge(state.red_flags, flags), quotes=_merge(state.quotes, quotes))
    if state.node is None:
        return _enter(flow, state, flow.start, env)
    result = _answer(flow, state, text, env)
    if result.state.node == state.node and result.state.misses > state.misses:
        # The text said something important but answered nothing: note it, ask again, no penalty.
        return Result(state, [_msg(flow, "noted", state, env), *_repeat(flow, state, env)], [])
    return result


def _merge(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    return old + tuple(f for f in new if f not in old)


def _answer(flow: Flow, state: State, text: str, env: Env) -> Result:
    node = flow.nodes[state.node]  # type: ignore[index]
    if isinstance(node, FreeText):
        answers = {**state.answers, state.node: text[:500]}  # type: ignore[dict-item]
        return _enter(flow, state.evolve(answers=answers, misses=0), node.next, env)
    assert isinstance(node, Question), state.node
    choice_id = parse_answer(node, text)
    if choice_id is None:
        return _unclear(flow, state, node, env)
    choice = next(c for c in node.choices if c.id == choice_id)
    answers = {**state.answers, state.node: choice_id}  # type: ignore[dict-item]
    flags = _merge(state.red_flags, (choice.red_flag,)) if choice.red_flag else state.red_flags
    return _enter(flow, state.evolve(answers=answers, misses=0, red_flags=flags), choice.next, env)


def _unclear(flow: Flow, state: State, node: Question, env: Env) -> Result:
    misses = state.misses + 1
    if misses > flow.reask_limit:
        if node.screening:
            reason = "could not complete screening: answers not understood"
            return _goto_outcome(flow, state, flow.unclear_outcome, (), reason, (), env)
        return Result(state.evolve(misses=0), [_msg(flow, "offer_nurse", state, env)], [])
    state = state.evolve(misses=misses)
    # Hints are written for texting ("Reply YES or NO"); on the phone the repeated question lists the keys.
    hint = localize(node.hint, state.language, env.values) if node.hint and env.channel == "sms" else ""
    unclear = _msg(flow, "unclear", state, env)
    body = " ".join(part for part in (unclear.text, hint) if part)
    return Result(state, [Message("unclear", body), *_repeat(flow, state, env)], [])


def _goto_outcome(flow: Flow, state: State, outcome_id: str, flags: tuple[str, ...], reason: str,
                  quotes: tuple[str, ...], env: Env) -> Result:
    state = state.evolve(red_flags=_merge(state.red_flags, flags), quotes=_merge(state.quotes, quotes))
    return _enter(flow, state, outcome_id, env, reason=reason)


def _enter(flow: Flow, state: State, node_id: str, env: Env, *, reason: str = "") -> Result:
    """Walk from node_id through info nodes to the next question or an outcome."""
    messages: list[Message] = []
    for _ in range(_MAX_CHAIN):
        node = flow.nodes[node_id]
        if isinstance(node, Info):
            messages.append(Message(node_id, node_text(flow, node_id, env.channel, state.language, env.values)))
            node_id = node.next
            continue
        if isinstance(node, (Question, FreeText)):
            messages.append(Message(node_id, prompt(flow, node_id, state.language, env)))
            return Result(state.evolve(node=node_id, status=ACTIVE, misses=0), messages, [])
        return _outcome(flow, state, node_id, node, messages, reason, env)
    raise RuntimeError(f"flow {flow.id}: info chain too long at {node_id}")


def floor(flow: Flow, state: State) -> Level | None:
    """The least urgent level this conversation may end at, from the red flags it has shown."""
    levels = [flow.red_flags[f].level for f in state.red_flags if f in flow.red_flags]
    return most_urgent(levels) if levels else None


def _outcome(flow: Flow, state: State, node_id: str, node: Outcome, messages: list[Message], reason: str,
             env: Env) -> Result:
    minimum = floor(flow, state)
    if minimum is not None and minimum.rank > node.level.rank:
        # A red flag noted earlier outranks where the answers led: never end below it.
        node_id = flow.level_outcomes[minimum]
        node = flow.outcome(node_id)
        reason = reason or "red flag noted earlier in the conversation"
    messages.append(Message(node_id, node_text(flow, node_id, env.channel, state.language, env.values)))
    actions: list[Action] = []
    if node.stop_checkins or node.checkins:
        actions.append(CancelCheckins())
    if node.level.rank >= Level.seen_within_3_days.rank:
        why = reason or node.reason or ("red-flag answer" if state.red_flags else node_id)
        actions.append(Escalate(node.level, node_id, state.red_flags, why, state.quotes))
    actions += [ScheduleCheckin(plan.ask, plan.after) for plan in node.checkins]
    # The conversation's level is the most urgent it has reached; a check-in reply never lowers it.
    level = node.level if state.level is None else most_urgent([state.level, node.level])
    new_state = state.evolve(node=None, status=DONE, outcome=node_id, level=level, misses=0)
    return Result(new_state, messages, actions)


