"""How one text from the patient (or a caller's keys or words) was read, from what the line had asked and the
keys of what it answered (messages.key: the node and message ids of each reply, as the engine named them).

The keys are the record of what the engine decided at the time; the answer parser and the red-flag finder are
asked again only to say which choice or which words, on the conversation's own pinned flow. Pure: no database.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.answers import YES, is_yes_no, opens_with_yes, parse_answer
from ..engine.flow import Flow, FreeText, Level, Outcome, Question
from ..engine.implied import hedge, implied
from ..engine.keywords import Keyword, match_keyword
from ..engine.redflags import detect

# What a reading is: the nurse sees `Reading.words`; tests and the FHIR export look at `kind`.
ANSWER, FREE, UNCLEAR, HEDGED, SUGGESTS, CONFIRMED, DENIED = (
    "answer", "free", "unclear", "hedged", "suggests", "confirmed", "denied")
RED_FLAG, NOTED, KEYWORD, REPEAT, OPENING, AFTER, HELD, UNKNOWN = (
    "red_flag", "noted", "keyword", "repeat", "opening", "after", "held", "unknown")

KEYWORD_WORDS = {
    Keyword.stop: "STOP: opted out of texts", Keyword.start: "START: texts on again",
    Keyword.help: "HELP: sent the help text", Keyword.nurse: "asked for a nurse",
    Keyword.restart: "RESTART: the questions from the start", Keyword.spanish: "switched to Spanish",
    Keyword.english: "switched to English",
}
CONFIRM_PREFIX = "confirm_"  # engine/step.py names a confirming question's message confirm_<red flag>
JUST_TO_BE_SURE = "just_to_be_sure"


@dataclass(frozen=True)
class Asked:
    """What was out when the patient wrote: a flow question, maybe with a confirming question on top."""

    node: str | None = None  # None: nothing asked (a first text, or after the outcome)
    confirm: str | None = None  # "flag:<red flag>" (Do you mean ...?) or "no" (Just to be sure: <node>)

    @property
    def flag(self) -> str | None:
        return self.confirm[5:] if self.confirm and self.confirm.startswith("flag:") else None


@dataclass(frozen=True)
class Noted:
    """A red flag the patient's own words raised, with the words that did."""

    flag: str
    label: str
    level: Level
    quote: str


@dataclass(frozen=True)
class Reading:
    kind: str
    words: str  # for the nurse: "Yes", "not understood: asked again"
    choice: str | None = None  # the choice id, when the words answered the question
    flags: tuple[Noted, ...] = ()


def asked_after(flow: Flow, keys: list[str], before: Asked) -> Asked:
    """What is out once the line has said these keys (in order): the last question, confirm or outcome wins."""
    asked = before
    for key in keys:
        node = flow.nodes.get(key)
        if isinstance(node, (Question, FreeText)):
            asked = Asked(key)
        elif isinstance(node, Outcome):
            asked = Asked()
        elif key.startswith(CONFIRM_PREFIX) and key[len(CONFIRM_PREFIX):] in flow.red_flags:
            asked = Asked(asked.node, f"flag:{key[len(CONFIRM_PREFIX):]}")
        elif key == JUST_TO_BE_SURE:
            asked = Asked(asked.node, "no")
    return asked


def noted_flags(flow: Flow, text: str, recorded: tuple[str, ...]) -> tuple[Noted, ...]:
    """The red flags these words assert that the conversation did record (so a finder changed since cannot
    claim a flag the line never acted on)."""
    return tuple(Noted(f.flag, flow.red_flags[f.flag].label, f.level, f.quote) for f in detect(flow, text)
                 if f.flag in recorded)


def read_turn(flow: Flow, asked: Asked, text: str, reply: list[str], recorded: tuple[str, ...]) -> Reading:
    """`text`: what the engine read (a caller's key as the digit); `reply`: the keys of the line's answer."""
    flags = noted_flags(flow, text, recorded)
    nodes = [key for key in reply if key in flow.nodes]
    entered = nodes[0] if nodes else None
    outcome = next((key for key in nodes if isinstance(flow.nodes[key], Outcome)), None)
    keyword = match_keyword(text) if text else None
    if "held" in reply:
        return Reading(HELD, "passed to the nurse (crisis hold: no automated questions)", flags=flags)
    if keyword is not None:
        return Reading(KEYWORD, KEYWORD_WORDS[keyword], flags=flags)
    if flags and any(f.level.disposition == "emergency" for f in flags) and outcome is not None:
        return Reading(RED_FLAG, f"a red flag in their own words: {outcome}", flags=flags)
    if asked.flag is not None:
        label = flow.red_flags[asked.flag].label if asked.flag in flow.red_flags else asked.flag
        if outcome == flow.unclear_outcome:
            return Reading(UNCLEAR, "not understood: passed to a nurse", flags=flags)
        if outcome is not None:
            return Reading(CONFIRMED, f"Yes: {label}", YES, flags)
        return Reading(DENIED, "No: back to the question", "no", flags)
    if asked.node is None:
        return _unasked(flow, text, reply, entered, outcome, flags)
    node = flow.nodes[asked.node]
    return _at_question(flow, asked, node, text, reply, entered, outcome, flags)  # type: ignore[arg-type]


def _suggests(flow: Flow, flag_id: str, text: str, flags: tuple[Noted, ...]) -> Reading:
    """Words that only suggest a red flag: the confirming question went out (the words are the nurse's too)."""
    label = flow.red_flags[flag_id].label if flag_id in flow.red_flags else flag_id
    suggested = tuple(Noted(f.flag, label, f.level, f.quote) for f in detect(flow, text, likely=True)
                      if f.flag == flag_id and not f.sure)
    return Reading(SUGGESTS, f"may mean: {label}: asked to confirm", flags=flags + suggested)


def _unasked(flow: Flow, text: str, reply: list[str], entered: str | None, outcome: str | None,
             flags: tuple[Noted, ...]) -> Reading:
    confirm = next((key[len(CONFIRM_PREFIX):] for key in reply if key.startswith(CONFIRM_PREFIX)), None)
    if confirm is not None:
        return _suggests(flow, confirm, text, flags)
    if flags:
        return Reading(RED_FLAG, "a red flag in their own words" + (f": {outcome}" if outcome else ""), flags=flags)
    if outcome is not None and entered == outcome:
        return Reading(OPENING, f"first text: led to {outcome}")
    if entered is not None:
        return Reading(OPENING, "first text: the questions began")
    return Reading(AFTER, "after the outcome")


def _at_question(flow: Flow, asked: Asked, node: Question | FreeText, text: str, reply: list[str],
                 entered: str | None, outcome: str | None, flags: tuple[Noted, ...]) -> Reading:
    if "unclear" in reply:
        return Reading(UNCLEAR, "not understood: asked again" if text else "no answer: asked again", flags=flags)
    if "offer_nurse" in reply:
        return Reading(UNCLEAR, "not understood again: offered a nurse", flags=flags)
    if outcome == flow.unclear_outcome:
        if asked.confirm == "no":  # the answer to "just to be sure" was not a yes or a no
            return Reading(UNCLEAR, "a hedged answer not confirmed: a nurse will call", flags=flags)
        return Reading(UNCLEAR, "not understood: the questions could not be finished", flags=flags)
    if JUST_TO_BE_SURE in reply:
        return Reading(HEDGED, "a hedged no: asked once more", flags=flags)
    confirm = next((key[len(CONFIRM_PREFIX):] for key in reply if key.startswith(CONFIRM_PREFIX)), None)
    if confirm is not None:
        return _suggests(flow, confirm, text, flags)
    if "noted" in reply:
        return Reading(NOTED, "not an answer: noted for the nurse, asked again", flags=flags)
    if isinstance(node, FreeText):
        return Reading(FREE, "their own words, kept for the nurse", flags=flags)
    choice = _by_transition(node, entered) or _parsed(node, text)
    if choice is not None:
        label = next(c.label for c in node.choices if c.id == choice)
        return Reading(ANSWER, label.get("en") or choice, choice, flags)
    if entered == asked.node or entered is None:
        return Reading(REPEAT, "no answer: asked again" if not text else "asked again", flags=flags)
    return Reading(UNKNOWN, "not recorded how", flags=flags)


def _by_transition(node: Question, entered: str | None) -> str | None:
    """The choice whose `next` is where the conversation went, when only one choice goes there."""
    going = [c.id for c in node.choices if entered is not None and c.next == entered]
    return going[0] if len(going) == 1 else None


def _parsed(node: Question, text: str) -> str | None:
    """The engine's own reading of the words, in its order (engine/step.py `_answer`)."""
    if not text:
        return None
    yes_no = node.screening and is_yes_no(node)
    if yes_no and hedge(text) == YES:
        return YES
    choice = parse_answer(node, text) or implied(node, text)
    if choice is None and yes_no and opens_with_yes(text):
        return YES
    return choice
