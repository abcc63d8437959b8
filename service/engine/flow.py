"""Pydantic model of a triage flow file.

A flow is a graph of nodes (questions, info messages, outcomes) plus a registry of red flags.
Every patient-facing text is a `LocalText`: one string per language the flow declares.
The model only checks shapes; graph rules (targets, reachability, red-flag safety) live in lint.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

DEFAULT_LANGUAGE = "en"


class Level(StrEnum):
    """The telephone-triage disposition ladder, most urgent first (references.md)."""

    call_911_now = "call_911_now"
    ed_now = "ed_now"
    seen_today = "seen_today"
    seen_within_24h = "seen_within_24h"
    seen_within_3_days = "seen_within_3_days"
    home_care = "home_care"

    @property
    def rank(self) -> int:
        """Higher is more urgent."""
        return len(LEVEL_ORDER) - LEVEL_ORDER.index(self)

    @property
    def disposition(self) -> str:
        return DISPOSITION_OF_LEVEL[self]

    @property
    def pages_nurse(self) -> bool:
        return self.disposition in ("emergency", "nurse_callback")


LEVEL_ORDER = list(Level)
DISPOSITION_OF_LEVEL = {
    Level.call_911_now: "emergency",
    Level.ed_now: "emergency",
    Level.seen_today: "nurse_callback",
    Level.seen_within_24h: "nurse_callback",
    Level.seen_within_3_days: "clinic_queue",
    Level.home_care: "self_care",
}
# How staff read each level (nurses' pages, the dashboard, the record); a patient hears the flows' own words.
LEVEL_WORDS = {
    Level.call_911_now: "CALL 911 NOW",
    Level.ed_now: "ED NOW",
    Level.seen_today: "see today",
    Level.seen_within_24h: "see within 24h",
    Level.seen_within_3_days: "see within 3 days",
    Level.home_care: "home care",
}


def most_urgent(levels: list[Level]) -> Level:
    return max(levels, key=lambda level: level.rank)


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """'30m', '2h', '3d' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    raise ValueError(f"expected a duration like '30m', '24h' or '3d', got {value!r}")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _as_local_text(value: object) -> object:
    # A plain string is shorthand for the default language.
    if isinstance(value, str):
        return {DEFAULT_LANGUAGE: value}
    return value


LocalText = Annotated[dict[str, str], BeforeValidator(_as_local_text)]
LocalPhrases = Annotated[dict[str, list[str]], BeforeValidator(
    lambda v: {DEFAULT_LANGUAGE: v} if isinstance(v, list) else v
)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Near(Strict):
    """A red flag said loosely: a body-part word and a sign word within `window` words, in either order
    ("my bottom has been numb since yesterday", "numb since yesterday around my bottom")."""

    parts: list[str] = Field(min_length=1, description="regexes for the body part")
    signs: list[str] = Field(min_length=1, description="regexes for the sign (numb, gave out, leaking)")
    window: int = Field(5, ge=1, le=20)
    sure: bool = Field(True, description="false: the words only suggest the flag; ask its `confirm` question")


LocalNear = Annotated[dict[str, list[Near]], BeforeValidator(
    lambda v: {DEFAULT_LANGUAGE: v} if isinstance(v, list) else v
)]


class RedFlag(Strict):
    """A finding that must reach at least `level`, however the patient says it."""

    label: str = Field(description="plain words for the nurse's page")
    level: Level
    source: str = Field(min_length=3, description="guideline or page the rule comes from")
    phrases: LocalPhrases = Field(default_factory=dict, description="regexes on normalised text")
    near: LocalNear = Field(default_factory=dict, description="a body part and a sign close together, any order")
    unless: LocalPhrases = Field(default_factory=dict, description="regexes: a clause saying this is not the flag")
    confirm: LocalText | None = Field(None, description="yes/no question when the words only suggest this flag")
    outcome: str | None = Field(None, description="the outcome this flag leads to (else its level's outcome)")
    past_counts: bool = Field(False, description="a finding said to be long past still counts (long_ago.py); "
                                                 "else an emergency flag is about now")


class YesWhen(Strict):
    """What a number in the answer already says (answers that imply yes or no): "2 days", "I'm 45"."""

    more_than: Duration | None = Field(None, description="a duration longer than this is yes, shorter no")
    at_least: int | None = Field(None, ge=1, le=120, description="an age of at least this many years is yes")
    alone: bool = Field(True, description="false when the question asks more: then a value only ever says no")

    @field_validator("at_least", mode="before")
    @classmethod
    def _years(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().endswith("y") and value.strip()[:-1].isdigit():
            return int(value.strip()[:-1])
        return value


class Choice(Strict):
    id: str
    label: LocalText
    aliases: LocalPhrases = Field(default_factory=dict)
    next: str
    red_flag: str | None = None


class Channels(Strict):
    """Per-channel wording where a question reads differently on the phone."""

    voice: LocalText | None = None
    sms: LocalText | None = None


class Question(Strict):
    type: Literal["question"]
    text: LocalText
    channels: Channels = Channels()
    choices: list[Choice] = Field(min_length=2, max_length=8)
    hint: LocalText | None = None
    screening: bool = Field(False, description="part of the red-flag screen")
    yes_when: YesWhen | None = None


class FreeText(Strict):
    type: Literal["free"]
    text: LocalText
    channels: Channels = Channels()
    next: str
    screening: bool = False


class Info(Strict):
    type: Literal["info"]
    text: LocalText
    channels: Channels = Channels()
    next: str


class CheckinPlan(Strict):
    after: Duration
    ask: str = Field(description="question node sent as the check-in")


class Outcome(Strict):
    type: Literal["outcome"]
    level: Level
    text: LocalText
    channels: Channels = Channels()
    checkins: list[CheckinPlan] = Field(default_factory=list)
    stop_checkins: bool = Field(False, description="cancel follow-ups still pending")
    reason: str | None = Field(None, description="why, in plain words for the nurse")
    hold: bool = Field(False, description="no more automated questions: every later text goes to the nurse "
                                          "until the case is resolved (crisis)")
    put_through: bool = Field(False, description="on a call, connect the caller to the nurse")


Node = Annotated[Question | FreeText | Info | Outcome, Field(discriminator="type")]


class Silence(Strict):
    reminder_after: Duration = timedelta(minutes=30)
    give_up_after: Duration = timedelta(hours=2)


class Messages(Strict):
    """Texts the service sends outside the node graph (keywords, re-asks, notices, option lists)."""

    help: LocalText
    stop: LocalText
    start: LocalText
    unclear: LocalText
    noted: LocalText
    offer_nurse: LocalText
    after_outcome: LocalText
    open_emergency: LocalText
    silence_reminder: LocalText
    privacy: LocalText
    checkin_reminder: LocalText
    case_acknowledged: LocalText
    relay: LocalText
    no_nurse_reached: LocalText
    sms_yes_no: LocalText
    sms_choices: LocalText
    voice_option: LocalText
    voice_controls: LocalText
    # From flows/universal.yaml (every flow includes it); a flow may give its own.
    urgent_opening: LocalText | None = None
    held: LocalText | None = None
    just_to_be_sure: LocalText | None = None
    # What the phone line says around the flow (greeting, language offer, transfer, voicemail, goodbye).
    voice_greeting: LocalText | None = None
    voice_language_offer: LocalText | None = None
    voice_press_nurse: LocalText | None = None
    voice_still_unclear: LocalText | None = None
    voice_connecting: LocalText | None = None
    voice_no_nurse: LocalText | None = None
    voice_closing: LocalText | None = None
    voice_text_offer: LocalText | None = None
    voice_text_hidden: LocalText | None = None
    voice_text_accepted: LocalText | None = None
    voice_text_declined: LocalText | None = None
    voice_nurse_unanswered: LocalText | None = None
    voice_voicemail_prompt: LocalText | None = None
    voice_voicemail_thanks: LocalText | None = None
    voice_no_voicemail: LocalText | None = None
    voice_after_nurse: LocalText | None = None
    voice_goodbye: LocalText | None = None
    voice_trouble: LocalText | None = None
    sms_trouble: LocalText | None = None  # the SMS answer when the line cannot read a text (database down)
    whatsapp_off: LocalText | None = None  # the one answer to a WhatsApp message while WhatsApp is off
    media_only: LocalText | None = None  # a photo or file with no words: we cannot look at it, say it in words
    sms_late: LocalText | None = None  # before the replies to a text that waited in the outage spool
    voice_advice_header: LocalText | None = None
    voice_advice_footer: LocalText | None = None
    # A nurse calling back through the clinic number (service/callbacks): what the patient hears on picking up,
    # and the text a nurse may send after the patient did not answer.
    voice_callback_hello: LocalText | None = None
    callback_missed: LocalText | None = None


class Openings(Strict):
    """First texts that are not (only) about the flow's complaint, shared by every flow (universal.yaml)."""

    urgent: LocalPhrases = Field(default_factory=dict, description="'911', 'emergency', 'please help'")
    child: LocalPhrases = Field(default_factory=dict, description="the patient is a child")
    admin: LocalPhrases = Field(default_factory=dict, description="a refill, an appointment, a bill")
    other_complaint: LocalPhrases = Field(default_factory=dict, description="a complaint of another kind")
    child_outcome: str | None = None
    admin_outcome: str | None = None
    other_outcome: str | None = None


class Scope(Strict):
    """Whom and what a flow is for: a first text about something else is not forced through its screen."""

    population: Literal["adult", "any"] = "adult"
    complaint: LocalPhrases = Field(description="words that say a text is about this flow's complaint")
    ask: str = Field(description="yes/no question asked when a first text names another complaint")


class Longest(Strict):
    """The longest value each placeholder may take, in characters: every text is counted with it."""

    clinic_name: int = Field(30, ge=1, le=80)
    clinic_phone: int = Field(20, ge=1, le=40)
    unicode: bool = Field(False, description="a value may hold a letter outside GSM-7 (Clínica): count the "
                                             "texts that use one as UCS-2")


class SegmentBudget(Strict):
    """How long a text may be by SMS: `flows check` counts every text a patient can get, in every language,
    and fails past `per_text` segments (each is billed; Twilio advises under 320 characters)."""

    per_text: int = Field(3, ge=1, le=10, description="SMS segments a text may take")
    longest: Longest = Longest()


class Flow(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    languages: list[str] = Field(default_factory=lambda: [DEFAULT_LANGUAGE], min_length=1)
    reviewed_by: dict[str, str | None] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list, description="shared files merged in (universal)")
    scope: Scope | None = None
    openings: Openings = Openings()
    start: str
    expiry: Duration = timedelta(hours=24)
    reask_limit: int = Field(2, ge=0, le=5)
    silence: Silence = Silence()
    segment_budget: SegmentBudget = SegmentBudget()
    unclear_outcome: str = Field(description="outcome when the red-flag screen cannot be finished")
    nurse_outcome: str = Field(description="outcome when the patient asks for a nurse")
    level_outcomes: dict[Level, str] = Field(
        description="the outcome used for each level when a red flag is found in free text")
    messages: Messages
    red_flags: dict[str, RedFlag]
    nodes: dict[str, Node]

    @field_validator("languages")
    @classmethod
    def _default_language_first(cls, languages: list[str]) -> list[str]:
        if languages[0] != DEFAULT_LANGUAGE:
            raise ValueError(f"the first language must be {DEFAULT_LANGUAGE!r}")
        return languages

    def node(self, node_id: str) -> Question | FreeText | Info | Outcome:
        return self.nodes[node_id]

    def outcome(self, node_id: str) -> Outcome:
        node = self.nodes[node_id]
        assert isinstance(node, Outcome), node_id
        return node
