"""The structured summary of one conversation, for the nurse who takes the case: every question asked, the
patient's own words, how each was read, the red flags with the words that found them, the disposition, the
flow version and the language. A Spanish conversation shows the English question beside the Spanish words.

Pure: the pinned flow, the conversation's final state and its stored messages in, a `Summary` out (the case
page, `cases show` and the FHIR export all render this one value).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..engine.flow import Flow, FreeText, Level, Question
from ..engine.keypad import REPEAT_KEY, key_to_text
from ..engine.render import localize, node_text
from ..engine.state import State
from .reading import ANSWER, CONFIRMED, FREE, REPEAT, Asked, Reading, asked_after, noted_flags, read_turn

# Outbound kinds that speak for the flow (they carry its node and message keys); the rest (pages, a nurse's
# relayed words, notices) ask the patient nothing.
LINE_KINDS = ("reply", "prompt", "checkin", "reminder")
HOW_HEARD = {"dtmf": "keypad", "speech": "speech", "speech_unsure": "speech, heard unsurely", "silence": "no answer"}
PRESSED = "pressed "  # runtime/calls.py stores a key press as "pressed 2"


@dataclass(frozen=True)
class Said:
    """One stored message of the conversation, as the summary needs it (a row of `messages`)."""

    id: int
    at: datetime
    direction: str  # in | out
    channel: str  # sms | voice
    kind: str
    key: str | None  # out: the node and message ids, comma-separated; voice in: dtmf | speech | silence
    body: str
    with_patient: bool = True  # False: to or from staff (a page, a nurse's command)


@dataclass(frozen=True)
class Exchange:
    """A question and the patient's answer to it."""

    number: int
    at: datetime
    channel: str
    asked: str | None  # the flow node (or None: nothing was asked)
    question: str  # in English, as the flow has it ('' when nothing was asked)
    question_asked: str  # as asked, in the conversation's language, when that is not English ('' otherwise)
    language: str
    words: str  # the patient's own words ("pressed 2" for a key)
    how: str  # text | keypad | speech | ...
    reading: Reading


@dataclass(frozen=True)
class Evidence:
    exchange: int | None  # the exchange's number (None: only the conversation's record says so)
    how: str  # "answered Yes to: ..." or "in their own words"
    words: str  # the words that found it (as the red-flag finder quotes them)
    said: str = ""  # the patient's whole text


@dataclass(frozen=True)
class FlagLine:
    flag: str
    label: str
    level: Level
    source: str
    found: tuple[Evidence, ...]


@dataclass(frozen=True)
class Answer:
    """The answer that stands for a question at the end (what the QuestionnaireResponse carries)."""

    node: str
    question: str
    value: str  # the choice id, or a free-text answer
    display: str  # the choice's English label, or the free text
    words: str  # the patient's own words that gave it ('' when not found)
    free: bool = False


@dataclass(frozen=True)
class Summary:
    flow_id: str
    flow_title: str
    flow_version: str
    channel: str
    language: str
    status: str
    outcome: str | None
    outcome_text: str  # the outcome's text, in English
    level: Level | None
    exchanges: tuple[Exchange, ...]
    red_flags: tuple[FlagLine, ...]
    answers: tuple[Answer, ...]

    @property
    def disposition(self) -> str | None:
        return self.level.disposition if self.level else None


def summarize(flow: Flow, version: str, state: State, said: Sequence[Said], *, channel: str, status: str,
              context: Mapping[str, str] | None = None) -> Summary:
    context = context or {}
    exchanges = _exchanges(flow, state, said, context)
    outcome_text = node_text(flow, state.outcome, "sms", "en", context) if state.outcome in flow.nodes else ""
    return Summary(flow.id, flow.title, version, channel, state.language, status, state.outcome, outcome_text,
                   state.level, tuple(exchanges), _red_flags(flow, state, exchanges),
                   _answers(flow, state, exchanges, context))


def _exchanges(flow: Flow, state: State, said: Sequence[Said], context: Mapping[str, str]) -> list[Exchange]:
    """Pair each text from the patient with what was out before it and what the line answered after it."""
    asked, prompt_body, found = Asked(), "", []
    line = [i for i, s in enumerate(said) if s.direction == "out" and s.with_patient and s.kind in LINE_KINDS]
    from_line = set(line)
    for index, message in enumerate(said):
        if index in from_line:
            asked, prompt_body = asked_after(flow, _keys(message), asked), message.body
            continue
        if message.direction != "in" or not message.with_patient or message.kind != "answer":
            continue
        reply_at = next((i for i in line if i > index), None)
        next_in = next((i for i in range(index + 1, len(said)) if said[i].direction == "in"
                        and said[i].with_patient and said[i].kind == "answer"), len(said))
        reply = _keys(said[reply_at]) if reply_at is not None and reply_at < next_in else []
        text = _engine_text(message)
        reading = read_turn(flow, asked, text, reply, state.red_flags)
        if message.channel == "voice" and message.body == f"{PRESSED}{REPEAT_KEY}" and reading.kind == REPEAT:
            reading = Reading(REPEAT, f"pressed {REPEAT_KEY}: the question again")
        language = _language(flow, asked.node, prompt_body, message.channel, state.language, context)
        question, question_asked = _question(flow, asked, language, message.channel, context)
        found.append(Exchange(len(found) + 1, message.at, message.channel, asked.node, question, question_asked,
                              language, message.body, _how(message), reading))
    return found


def _keys(message: Said) -> list[str]:
    return [key for key in (message.key or "").split(",") if key]


def _engine_text(message: Said) -> str:
    """What the engine read: a caller's key as its digit (9 is a repeat: nothing), silence as nothing."""
    if message.channel != "voice":
        return message.body
    if message.key == "dtmf" and message.body.startswith(PRESSED):
        return key_to_text(message.body[len(PRESSED):]) or ""
    return "" if message.key in ("silence", "speech_unsure") else message.body


def _how(message: Said) -> str:
    return HOW_HEARD.get(message.key or "", "speech") if message.channel == "voice" else "text"


def _language(flow: Flow, node_id: str | None, prompt_body: str, channel: str, default: str,
              context: Mapping[str, str]) -> str:
    """The language the question went out in: the one whose wording is in what was sent."""
    if node_id is None or len(flow.languages) == 1:
        return default
    for language in flow.languages:
        for wording in {node_text(flow, node_id, channel, language, context),
                        node_text(flow, node_id, "sms", language, context)}:
            if wording[-40:] in prompt_body:
                return language
    return default


def _question(flow: Flow, asked: Asked, language: str, channel: str, context: Mapping[str, str]
              ) -> tuple[str, str]:
    """(in English as the flow words it for texts, as asked on its channel when not English)"""
    if asked.flag is not None and asked.flag in flow.red_flags and flow.red_flags[asked.flag].confirm:
        text = flow.red_flags[asked.flag].confirm or {}
        return localize(text, "en", context), localize(text, language, context) if language != "en" else ""
    if asked.node is None:
        return "", ""
    english = node_text(flow, asked.node, "sms", "en", context)
    local = node_text(flow, asked.node, channel, language, context) if language != "en" else ""
    if asked.confirm == "no":
        sure = flow.messages.just_to_be_sure or {"en": "Just to be sure:"}
        english = f"{localize(sure, 'en')} {english}"
        local = f"{localize(sure, language)} {local}" if local else ""
    return english, local


def _red_flags(flow: Flow, state: State, exchanges: list[Exchange]) -> tuple[FlagLine, ...]:
    lines = []
    for flag_id in state.red_flags:
        flag = flow.red_flags.get(flag_id)
        if flag is None:
            continue
        found = [Evidence(e.number, "in their own words", noted.quote, e.words)
                 for e in exchanges for noted in e.reading.flags if noted.flag == flag_id]
        found += [Evidence(e.number, f"said yes to: {e.question}" if e.reading.kind == CONFIRMED else
                           f"answered {e.reading.words} to: {e.question}", e.words, e.words)
                  for e in exchanges if _raised_by_choice(flow, e, flag_id)]
        if not found:  # the words are in the record but not in a text we can pair (a check-in, a call's end)
            found = [Evidence(None, "in their own words", quote, quote) for quote in state.quotes
                     if any(noted.flag == flag_id for noted in noted_flags(flow, quote, state.red_flags))]
        lines.append(FlagLine(flag_id, flag.label, flag.level, flag.source, tuple(sorted(
            found, key=lambda e: e.exchange or 0))))
    return tuple(lines)


def _raised_by_choice(flow: Flow, exchange: Exchange, flag_id: str) -> bool:
    reading = exchange.reading
    if reading.kind == CONFIRMED:
        return exchange.reading.words.endswith(flow.red_flags[flag_id].label)
    node = flow.nodes.get(exchange.asked or "")
    if reading.kind != ANSWER or not isinstance(node, Question):
        return False
    return any(c.id == reading.choice and c.red_flag == flag_id for c in node.choices)


def _answers(flow: Flow, state: State, exchanges: list[Exchange], context: Mapping[str, str]) -> tuple[Answer, ...]:
    answers = []
    for node_id, value in state.answers.items():
        node = flow.nodes.get(node_id)
        if not isinstance(node, (Question, FreeText)):
            continue
        question = node_text(flow, node_id, "sms", "en", context)
        gave = [e for e in exchanges if e.asked == node_id and (
            e.reading.choice == value if isinstance(node, Question) else e.reading.kind == FREE)]
        words = gave[-1].words if gave else ""
        if isinstance(node, FreeText):
            answers.append(Answer(node_id, question, value, value, words or value, free=True))
            continue
        choice = next((c for c in node.choices if c.id == value), None)
        answers.append(Answer(node_id, question, value, choice.label.get("en", value) if choice else value, words))
    return tuple(answers)
