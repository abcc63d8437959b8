"""What passes between a call and the phone menu (engine/phone.py): what the caller did (Heard) and what it
means, what the line says and does next (VoiceTurn), the facts the runtime supplies (Caller, Call) and the
menu's Decision. Pure, like the engine: no database, Flask or Twilio.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from .flow import Flow, FreeText
from .keypad import key_to_text
from .keywords import Keyword, match_keyword
from .redflags import detect
from .render import localize
from .state import ACTIVE, Result, ScheduleCheckin, State
from .text import normalize

# What happens after the caller has heard a turn.
GATHER, DIAL, RECORD, HANGUP = "gather", "dial", "record", "hangup"
# What a gathered answer is for.
QUESTION, OFFER, CLOSING, LANGUAGE = "question", "offer", "closing", "language"

MIN_CONFIDENCE = 0.5  # speech heard less surely than this is asked again (unless it names a red flag)
NURSE_KEY_TEXT = "NURSE"
# Recognition vocabulary, never said to a caller: the words that ask for a repeat (like engine/keywords.py's
# patterns, they are matched against what was heard, not spoken).
_REPEAT_WORDS = {"repeat", "repeat that", "repeat the question", "say that again", "say again", "again", "what",
                 "pardon", "sorry", "come again", "can you repeat that", "repite", "otra vez"}


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


# What a Gather result means.
REPEAT, NURSE, TEXT = "repeat", "nurse", "text"


def meaning(flow: Flow, heard: Heard, node: object = None) -> tuple[str, str]:
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


@dataclass(frozen=True)
class Caller:
    """What the runtime read for this callback: facts about the caller and the call that the flow cannot know."""

    language: str = "en"  # the patient's language: the line speaks it until the caller chooses another
    status: str = ACTIVE  # the conversation's status (it may have ended or expired since the last callback)
    step: int = 1  # the number this callback's Gather or Dial carries
    textable: bool = False  # a number we may text that can take a text: not hidden, opted out or a landline
    hidden: bool = False  # no caller ID
    privacy_notice_sent: bool = False  # the patient has had the privacy notice (by text)
    first_answer: bool = False  # this is the first answer the caller has given on this call (the language aside)
    advice_offered: bool = False  # written advice is staged, waiting for the caller's yes


@dataclass(frozen=True)
class Call:
    """One callback's view of the call: the flow it is pinned to, its state, and the caller."""

    flow: Flow
    state: State
    caller: Caller = field(default_factory=Caller)
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What one callback decided. `keys` names each phrase said (node or message ids), for the history."""

    turn: VoiceTurn
    keys: tuple[str, ...] = ()
    result: Result | None = None  # the engine's step to save and carry out (check-ins wait for the text offer)
    advice: str | None = None  # written advice to stage now: sent only if the caller accepts the text offer
    send_advice: bool | None = None  # the staged advice: True sends it and starts `checkins`, False drops it
    checkins: tuple[ScheduleCheckin, ...] = ()
    # Put the caller through to the nurse: the runtime finds the case and the nurse once `result` has opened
    # the case, then `connect` says "connecting" (a DIAL) or that no nurse could be reached.
    transfer: bool = False


def phone_phrase(flow: Flow, name: str, language: str, context: Mapping[str, str]) -> str:
    text = getattr(flow.messages, f"voice_{name}")
    assert text is not None, name  # lint: every flow has the phone phrases (they come from universal.yaml)
    return localize(text, language, context)
