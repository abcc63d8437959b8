"""What the engine knows about one conversation, what it says, and what it asks the runtime to do."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from .flow import Level

ACTIVE, DONE, STOPPED = "active", "done", "stopped"


@dataclass(frozen=True)
class State:
    node: str | None = None  # the question awaiting an answer; None before the first text
    status: str = ACTIVE
    language: str = "en"
    answers: dict[str, str] = field(default_factory=dict)
    misses: int = 0  # answers not understood at the current question
    red_flags: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()  # the patient's words that raised a red flag, for the nurse
    outcome: str | None = None
    level: Level | None = None
    privacy_notice_sent: bool = False
    held: bool = False  # a crisis: every text goes to the nurse, no automated questions, until resolved
    confirm: str | None = None  # a confirming question is out: "flag:<red flag>" or "no:<question>"

    def to_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (which deep-copies every value): this runs for every text.
        return {"node": self.node, "status": self.status, "language": self.language, "answers": dict(self.answers),
                "misses": self.misses, "red_flags": list(self.red_flags), "quotes": list(self.quotes),
                "outcome": self.outcome, "level": self.level.value if self.level else None,
                "privacy_notice_sent": self.privacy_notice_sent, "held": self.held, "confirm": self.confirm}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> State:
        if not data:
            return cls()
        data = dict(data)
        data["red_flags"] = tuple(data.get("red_flags") or ())
        data["quotes"] = tuple(data.get("quotes") or ())
        data["level"] = Level(data["level"]) if data.get("level") else None
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def evolve(self, **changes: Any) -> State:
        return replace(self, **changes)


@dataclass(frozen=True)
class Message:
    key: str  # node id or message name, for the record and for tests
    text: str


@dataclass(frozen=True)
class Escalate:
    level: Level
    outcome: str
    red_flags: tuple[str, ...]
    reason: str
    quotes: tuple[str, ...] = ()  # the patient's own words that triggered it


@dataclass(frozen=True)
class ForwardToNurse:
    """The patient wrote again while a nurse case is open: the nurse should see it."""

    quote: str


@dataclass(frozen=True)
class ScheduleCheckin:
    ask: str
    after: timedelta


@dataclass(frozen=True)
class CancelCheckins:
    pass


@dataclass(frozen=True)
class OptOut:
    pass


@dataclass(frozen=True)
class OptIn:
    pass


@dataclass(frozen=True)
class SetLanguage:
    language: str


Action = Escalate | ForwardToNurse | ScheduleCheckin | CancelCheckins | OptOut | OptIn | SetLanguage


@dataclass(frozen=True)
class Result:
    state: State
    messages: list[Message]
    actions: list[Action]
