"""Did the advice hold up (issue #20, item 4): pure arithmetic over outcomes, no database, no clock.

The measure is Kaiser Permanente Northern California's for its advice nurses (references.md, "Running a nurse
line": Kaiser N. California advice nurses, AJMC 2015;21(4):264): self-care advice was "sufficient" when there
was no return contact needing a higher level within 7 days (88% of 279,625 calls). Here:

- *Advice*: a conversation's first outcome at home care or see within 3 days (the triage's advice; outcomes a
  check-in reaches later in the same conversation are its follow-up, not new advice).
- *Re-contact at a higher level*: any later outcome or case for the same patient, more urgent than the advice,
  within 7 days of it: a check-in answered "worse" that escalated (the same conversation), or a new
  conversation that did. The same or a lower level is not a re-contact at a higher level.
- *Held up*: 7 days passed without one. Advice whose 7 days have not passed and with no re-contact yet is
  *pending*: left out of the share until it holds up or does not (as figures.py does with targets).

The line's own under-triage signal; the re-contacts go to the clinical lead's review list (reviews.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..engine.flow import Level
from .figures import Share

WITHIN = timedelta(days=7)
ADVICE_LEVELS = frozenset({Level.home_care.value, Level.seen_within_3_days.value})
HELD, NOT_HELD, PENDING = "held", "not_held", "pending"


@dataclass(frozen=True)
class Outcome:
    """A level a patient's conversation reached: an outcome the line gave, or a case opened at that level."""

    patient_id: int
    conversation_id: int
    level: str
    at: datetime
    first: bool = False  # the conversation's first outcome: its advice
    node: str = ""  # the flow's outcome node ('' for a case)
    case_id: int | None = None  # the case it opened, if any

    @property
    def rank(self) -> int:
        return Level(self.level).rank


@dataclass(frozen=True)
class AdviceVerdict:
    advice: Outcome
    state: str  # held | not_held | pending
    recontact: Outcome | None = None  # the first re-contact at a higher level (not_held only)

    @property
    def via(self) -> str:
        """How the patient came back: 'checkin' (in the same conversation: a check-in's answer, or a later text
        before it expired) or 'new_conversation'."""
        if self.recontact is None:
            return ""
        return "checkin" if self.recontact.conversation_id == self.advice.conversation_id else "new_conversation"

    @property
    def days_after(self) -> float | None:
        return None if self.recontact is None else (self.recontact.at - self.advice.at) / timedelta(days=1)


@dataclass
class HeldUp:
    start: datetime
    end: datetime
    verdicts: list[AdviceVerdict] = field(default_factory=list)  # advice given in [start, end), oldest first

    @property
    def share(self) -> Share:
        """Held up, of the advice decided (held or not); pending apart."""
        states = [v.state for v in self.verdicts]
        held, not_held = states.count(HELD), states.count(NOT_HELD)
        return Share(held, held + not_held, states.count(PENDING))

    @property
    def recontacted(self) -> list[AdviceVerdict]:
        return [v for v in self.verdicts if v.state == NOT_HELD]

    @property
    def recontact_percent(self) -> float | None:
        share = self.share
        return 100 * (share.counted - share.within) / share.counted if share.counted else None


def verdict(advice: Outcome, later: list[Outcome], now: datetime) -> AdviceVerdict:
    """`later`: the same patient's outcomes (any order); the first more urgent one within 7 days decides."""
    higher = sorted((o for o in later if o.patient_id == advice.patient_id and o.rank > advice.rank
                     and advice.at < o.at <= advice.at + WITHIN), key=lambda o: (o.at, o.conversation_id))
    if higher:
        return AdviceVerdict(advice, NOT_HELD, higher[0])
    return AdviceVerdict(advice, PENDING if now < advice.at + WITHIN else HELD)


def held_up(outcomes: list[Outcome], now: datetime, start: datetime, end: datetime) -> HeldUp:
    """Every advice given in [start, end), judged against the same patient's later outcomes."""
    by_patient: dict[int, list[Outcome]] = {}
    for outcome in outcomes:
        by_patient.setdefault(outcome.patient_id, []).append(outcome)
    advice = sorted((o for o in outcomes if o.first and o.level in ADVICE_LEVELS and start <= o.at < end),
                    key=lambda o: (o.at, o.conversation_id))
    return HeldUp(start, end, [verdict(a, by_patient[a.patient_id], now) for a in advice])
