"""Who is on call over the coming days, as stretches with the same people, gaps marked (from the roster)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..escalation.roster import Roster

SAMPLE = timedelta(minutes=15)  # changes between samples are found to the minute; overrides are exact


@dataclass(frozen=True)
class Stretch:
    start: datetime
    end: datetime
    primary: tuple[str, ...]
    backup: tuple[str, ...]
    supervisor: tuple[str, ...]
    reasons: tuple[str, ...]  # overrides in force

    @property
    def gap(self) -> bool:
        """No primary nurse: pages go straight to the backup or the supervisor."""
        return not self.primary

    @property
    def nobody(self) -> bool:
        """No one at all to page."""
        return not (self.primary or self.backup or self.supervisor)


def _who(roster: Roster, at: datetime) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    entries = roster.on_call(at)

    def names(role: str) -> tuple[str, ...]:
        return tuple(e.nurse.name for e in entries if e.role == role)

    return names("primary"), names("backup"), names("supervisor"), tuple(e.reason for e in entries if e.reason)


def _override_edges(roster: Roster) -> set[datetime]:
    """Starts and ends of one-off overrides (they can be shorter than a sample step)."""
    edges = set()
    for override in roster.spec.overrides:
        for value in (override.start, override.end):
            edges.add((value if value.tzinfo else value.replace(tzinfo=roster.zone)).astimezone(UTC))
    return edges


def stretches(roster: Roster, start: datetime, end: datetime) -> list[Stretch]:
    """[start, end) cut where the people on call change; each change found to the minute."""
    at = since = start.replace(second=0, microsecond=0)
    current = _who(roster, at)
    found: list[Stretch] = []
    edges = sorted(_override_edges(roster))
    while at < end:
        step = min([at + SAMPLE, end, *(t for t in edges if t > at)])
        if step == end or _who(roster, step) == current:
            at = step
            continue
        low, high = at, step  # the first change is in (low, high]: halve to the minute
        while high - low > timedelta(minutes=1):
            middle = low + timedelta(minutes=(high - low) // timedelta(minutes=1) // 2)
            if _who(roster, middle) == current:
                low = middle
            else:
                high = middle
        found.append(Stretch(since, high, *current))
        at = since = high
        current = _who(roster, high)
    found.append(Stretch(since, end, *current))
    return found
