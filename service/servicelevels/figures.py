"""Service levels from the cases' own times (issue #20, item 3): pure arithmetic, no database, no clock.

Times run from the case opening (the patient's red flag or request) to its acknowledgement and to the first
contact (a relayed text, or a call that connected). Targets (settings): emergencies acknowledged within
TARGET_ACK_MINUTES_EMERGENCY, nurse callbacks reached within TARGET_CONTACT_MINUTES_CALLBACK. A case still
inside its target and not yet done is *pending*: left out of the share until it meets or misses it.

Median: the middle time (the mean of the two middle ones for an even count). 90th percentile: nearest rank,
the smallest time that at least 90% of the cases were within.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..engine.flow import Level

LEVELS = [level.value for level in sorted(Level, key=lambda level: -level.rank)]  # most urgent first
CONTACT_BUCKETS = (5, 15, 30, 60, 120)  # minutes: the distribution of time to first contact


@dataclass(frozen=True)
class CaseTimes:
    id: int
    opened: datetime
    level: str
    disposition: str  # emergency | nurse_callback | clinic_queue
    channel: str  # how the patient reached us: sms | voice | whatsapp
    status: str
    paged_at: datetime | None = None
    acknowledged_at: datetime | None = None
    first_contact_at: datetime | None = None
    first_contact_via: str | None = None
    resolved_at: datetime | None = None

    @property
    def minutes_to_ack(self) -> float | None:
        return _minutes(self.opened, self.acknowledged_at)

    @property
    def minutes_to_contact(self) -> float | None:
        return _minutes(self.opened, self.first_contact_at)


@dataclass(frozen=True)
class Targets:
    ack_minutes_emergency: float = 5
    contact_minutes_callback: float = 30

    def of(self, case: CaseTimes) -> tuple[str, float] | None:
        """What this case is measured by: ("ack" | "contact", minutes), or None (no target for its kind)."""
        if case.disposition == "emergency":
            return "ack", self.ack_minutes_emergency
        if case.disposition == "nurse_callback":
            return "contact", self.contact_minutes_callback
        return None


@dataclass(frozen=True)
class Spread:
    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Share:
    within: int
    counted: int  # met or missed: the denominator
    pending: int  # not done yet and still inside the target

    @property
    def percent(self) -> float | None:
        return 100 * self.within / self.counted if self.counted else None


@dataclass(frozen=True)
class Verdict:
    """One case against its target: met, missed, or pending; `why` says it in words for the missed list."""

    case: CaseTimes
    measure: str  # ack | contact
    target: float
    state: str  # met | missed | pending
    why: str = ""


@dataclass
class Report:
    start: datetime
    end: datetime
    cases: list[CaseTimes]
    targets: Targets
    by_level_channel: dict[tuple[str, str], int] = field(default_factory=dict)
    channels: list[str] = field(default_factory=list)
    ack: dict[str, Spread] = field(default_factory=dict)  # by level
    contact: dict[str, Spread] = field(default_factory=dict)
    emergency_ack: Share = Share(0, 0, 0)
    callback_contact: Share = Share(0, 0, 0)
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # case id -> its target's verdict
    daily: list[tuple[date, dict[str, int]]] = field(default_factory=list)  # local day -> cases by level
    contact_histogram: list[tuple[str, int]] = field(default_factory=list)

    @property
    def missed(self) -> list[Verdict]:
        return [v for v in self.verdicts.values() if v.state == "missed"]

    @property
    def levels(self) -> list[str]:
        present = {case.level for case in self.cases}
        return [level for level in LEVELS if level in present]


def spread(values: list[float]) -> Spread:
    if not values:
        return Spread(0, None, None)
    ordered = sorted(values)
    return Spread(len(ordered), statistics.median(ordered), ordered[math.ceil(0.9 * len(ordered)) - 1])


def verdict(case: CaseTimes, targets: Targets, now: datetime) -> Verdict | None:
    aim = targets.of(case)
    if aim is None:
        return None
    measure, target = aim
    taken = case.minutes_to_ack if measure == "ack" else case.minutes_to_contact
    word = "acknowledged" if measure == "ack" else "first contact"
    if taken is not None:
        if taken <= target:
            return Verdict(case, measure, target, "met")
        return Verdict(case, measure, target, "missed", f"{word} after {minutes_words(taken)} (target {target:g} min)")
    waited = _minutes(case.opened, case.resolved_at or now) or 0.0
    if case.resolved_at is None and waited <= target:
        return Verdict(case, measure, target, "pending")
    how = "resolved without" if case.resolved_at is not None else "no"
    return Verdict(case, measure, target, "missed",
                   f"{how} {'acknowledgement' if measure == 'ack' else 'contact'} after {minutes_words(waited)} "
                   f"(target {target:g} min)")


def report(cases: list[CaseTimes], targets: Targets, now: datetime, start: datetime, end: datetime,
           zone: ZoneInfo) -> Report:
    """The figures for the cases opened in [start, end)."""
    cases = sorted((c for c in cases if start <= c.opened < end), key=lambda c: (c.opened, c.id))
    found = Report(start, end, cases, targets)
    found.by_level_channel = dict(Counter((c.level, c.channel) for c in cases))
    found.channels = sorted({c.channel for c in cases})
    for level in found.levels:
        of_level = [c for c in cases if c.level == level]
        found.ack[level] = spread([m for c in of_level if (m := c.minutes_to_ack) is not None])
        found.contact[level] = spread([m for c in of_level if (m := c.minutes_to_contact) is not None])
    for case in cases:
        judged = verdict(case, targets, now)
        if judged is not None:
            found.verdicts[case.id] = judged
    found.emergency_ack = _share([v for v in found.verdicts.values() if v.measure == "ack"])
    found.callback_contact = _share([v for v in found.verdicts.values() if v.measure == "contact"])
    found.daily = _daily(cases, start, end, zone)
    found.contact_histogram = _histogram([c.minutes_to_contact for c in cases])
    return found


def minutes_words(minutes: float) -> str:
    """'7.5 min', '1 h 05 min' (to the minute past an hour)."""
    if minutes < 60:
        return f"{round(minutes, 1):g} min"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h {rest:02d} min"


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else max((end - start) / timedelta(minutes=1), 0.0)


def _share(verdicts: list[Verdict]) -> Share:
    states = Counter(v.state for v in verdicts)
    return Share(states["met"], states["met"] + states["missed"], states["pending"])


def _daily(cases: list[CaseTimes], start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[date, dict[str, int]]]:
    first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    days: dict[date, Counter[str]] = {first + timedelta(days=n): Counter() for n in range((last - first).days + 1)}
    for case in cases:
        days.setdefault(case.opened.astimezone(zone).date(), Counter())[case.level] += 1
    return [(day, dict(counts)) for day, counts in sorted(days.items())]


def _histogram(minutes: list[float | None]) -> list[tuple[str, int]]:
    labels = [f"≤ {CONTACT_BUCKETS[0]} min"] + [f"{low}–{high} min" for low, high in
                                                 zip(CONTACT_BUCKETS, CONTACT_BUCKETS[1:], strict=False)]
    labels += [f"> {CONTACT_BUCKETS[-1]} min", "no contact yet"]
    counts = [0] * len(labels)
    for value in minutes:
        if value is None:
            counts[-1] += 1
        else:
            counts[next((i for i, high in enumerate(CONTACT_BUCKETS) if value <= high), len(CONTACT_BUCKETS))] += 1
    return list(zip(labels, counts, strict=True))
