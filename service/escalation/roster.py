"""The on-call roster (ROSTER_FILE): who is paged for an escalation, in what order, at any moment.

    nurses     who can be paged (name, phone, optional email)
    shifts     weekly: `{nurse, role: primary|backup, days: mon-fri, hours: 08:00-17:00}` in the roster's
               time zone (or the shift's own); `hours: 22:00-08:00` runs overnight into the next day
    overrides  one-off windows (holiday cover, swaps): for their role they replace the weekly shifts
    chain      the order an unacknowledged page walks: primary on call, backup, supervisor; then the
               `fallback` number (not necessarily a nurse) is texted and called

A roster with only `nurses:` keeps its old meaning: the first nurse is always on call. Overlapping
shifts are allowed (both nurses are paged in file order); gaps are not errors, `roster check` lists them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..engine.flow import Duration
from ..engine.yamlfile import FileProblems, YamlPath, line_for, parse_model, read_source
from ..phones import to_e164

log = logging.getLogger(__name__)
Role = Literal["primary", "backup"]
ChainStep = Literal["primary", "backup", "supervisor"]
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_ALIASES = {"weekdays": "mon-fri", "weekends": "sat-sun", "daily": "mon-sun", "every day": "mon-sun"}
_HOURS = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")
_LOCAL_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}):(\d{2}))?\s*$")
DAY = 24 * 60


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _phone(value: object) -> str:
    number = to_e164(str(value))
    if number is None:
        raise ValueError(f"{value!r} is not a phone number (use +1... form)")
    return number


def _zone(value: object) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like America/New_York)") from None
    return str(value)


Phone = Annotated[str, BeforeValidator(_phone)]
TimeZoneName = Annotated[str, BeforeValidator(_zone)]


def parse_days(value: object) -> tuple[int, ...]:
    """'mon-fri', 'weekends', 'mon, wed, fri', 'fri-mon' or a list of those -> weekday numbers (Mon=0)."""
    parts: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str):
            raise ValueError(f"expected day names like 'mon-fri' or [mon, wed], got {item!r}")
        text = item.strip().lower()
        parts += [p.strip() for p in _DAY_ALIASES.get(text, text).split(",") if p.strip()]
    days: list[int] = []
    for part in parts:
        first, _, last = part.partition("-")
        try:
            start, end = DAY_NAMES.index(first.strip()[:3]), DAY_NAMES.index((last or first).strip()[:3])
        except ValueError:
            raise ValueError(f"unknown day {part!r} (use mon..sun, mon-fri, weekdays, weekends, daily)") from None
        span = (end - start) % 7
        days += [(start + i) % 7 for i in range(span + 1)]
    if not days:
        raise ValueError("no days given")
    return tuple(sorted(set(days)))


def parse_hours(value: object) -> tuple[int, int]:
    """'08:00-17:00' -> (480, 1020) minutes after midnight; an end at or before the start is next day."""
    match = _HOURS.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected hours like '08:00-17:00' (or '22:00-08:00' overnight), got {value!r}")
    h1, m1, h2, m2 = (int(g or 0) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if h1 > 23 or m1 > 59 or m2 > 59 or end > DAY:
        raise ValueError(f"{value!r} is not a time range within a day (00:00 to 24:00)")
    if start == end:
        raise ValueError(f"{value!r} starts and ends at the same time (use 00:00-24:00 for all day)")
    return start, end


def _local_datetime(value: object) -> object:
    """'2026-03-06 08:00' (roster time zone), a YAML date or datetime; kept naive until the zone is known."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0))
    if isinstance(value, str):
        match = _LOCAL_TIME.match(value)
        if match:
            day, hour, minute = match.groups()
            try:
                return datetime.combine(date.fromisoformat(day), time(int(hour or 0), int(minute or 0)))
            except ValueError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
    raise ValueError(f"expected a local time like '2026-03-06 08:00', got {value!r}")


class Nurse(_Strict):
    name: str = Field(min_length=1, max_length=64)
    phone: Phone
    email: str | None = None


class Shift(_Strict):
    nurse: str
    role: Role = "primary"
    days: Annotated[tuple[int, ...], BeforeValidator(parse_days)]
    hours: Annotated[tuple[int, int], BeforeValidator(parse_hours)]
    timezone: TimeZoneName | None = None  # default: the roster's


class Override(_Strict):
    nurse: str
    role: Role = "primary"
    start: Annotated[datetime, BeforeValidator(_local_datetime)]
    end: Annotated[datetime, BeforeValidator(_local_datetime)]
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if _naive(self.end) <= _naive(self.start):
            raise ValueError("end must be after start")
        return self


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _fallback(value: object) -> object:
    return {"phone": value} if isinstance(value, str | int) else value


class Fallback(_Strict):
    """The last resort once every nurse in the chain was paged in vain: texted (and called)."""

    name: str = "fallback line"
    phone: Phone


class RosterFile(_Strict):
    timezone: TimeZoneName = "America/New_York"
    ack_timeout: Duration = timedelta(minutes=5)  # nurse_callback cases
    ack_timeout_emergency: Duration = timedelta(minutes=2)
    repages: int = Field(default=1, ge=0, le=5)  # re-pages of the same nurse before the next in the chain
    nurses: list[Nurse] = Field(min_length=1)
    shifts: list[Shift] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    chain: list[ChainStep] = Field(default_factory=lambda: ["primary", "backup", "supervisor"], min_length=1)
    supervisor: str | None = None  # a nurse's name: on call at all times as the chain's last step
    fallback: Annotated[Fallback | None, BeforeValidator(_fallback)] = None


@dataclass(frozen=True)
class OnCall:
    nurse: Nurse
    role: str  # primary | backup | supervisor
    until: datetime | None = None  # end of the shift or override (None: always)
    reason: str = ""  # an override's reason


@dataclass(frozen=True)
class Gap:
    """A stretch with no primary nurse on call; `covered_by` are the people paged instead."""

    start: datetime
    end: datetime
    covered_by: tuple[str, ...]


@dataclass(frozen=True)
class _Window:
    start: datetime  # aware UTC
    end: datetime
    nurse: Nurse
    role: str
    override: bool
    reason: str = ""


@dataclass(frozen=True)
class Roster:
    spec: RosterFile
    path: str
    warnings: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.spec.timezone)

    @property
    def ack_timeout(self) -> timedelta:
        return self.spec.ack_timeout

    def ack_timeout_for(self, disposition: str) -> timedelta:
        """Emergencies are re-paged faster than callbacks."""
        return self.spec.ack_timeout_emergency if disposition == "emergency" else self.spec.ack_timeout

    @property
    def repages(self) -> int:
        return self.spec.repages

    @property
    def fallback(self) -> Fallback | None:
        return self.spec.fallback

    @property
    def supervisor(self) -> Nurse | None:
        return self.nurse_by_name(self.spec.supervisor) if self.spec.supervisor else None

    def nurse_by_name(self, name: str) -> Nurse | None:
        return next((n for n in self.spec.nurses if n.name == name), None)

    def nurse_by_phone(self, phone: str | None) -> Nurse | None:
        return next((n for n in self.spec.nurses if n.phone == phone), None)

    def staff_by_phone(self, phone: str | None) -> Nurse | None:
        """A roster nurse, or the fallback line (which may text ACK too): never triaged as a patient."""
        nurse = self.nurse_by_phone(phone)
        fallback = self.spec.fallback
        if nurse is None and fallback is not None and phone == fallback.phone:
            return Nurse(name=fallback.name[:64], phone=fallback.phone)
        return nurse

    # --- who is on call -------------------------------------------------------------------

    def on_call(self, at: datetime) -> list[OnCall]:
        """Everyone on call at `at`, in chain order (primary, backup, supervisor), each nurse once."""
        holders = self._holders(at)
        found: list[OnCall] = []
        for step in self.spec.chain:
            if step == "supervisor":
                if self.supervisor is not None:
                    found.append(OnCall(self.supervisor, "supervisor"))
                continue
            found += [OnCall(w.nurse, w.role, w.end, w.reason) for w in holders if w.role == step]
        seen: set[str] = set()
        unique = []
        for entry in found:
            if entry.nurse.phone not in seen:
                seen.add(entry.nurse.phone)
                unique.append(entry)
        return unique

    def chain(self, at: datetime) -> list[Nurse]:
        """Who to page, in order, at `at`: primary on call, then backup, then supervisor."""
        return [entry.nurse for entry in self.on_call(at)]

    def primary_on_call(self, at: datetime) -> bool:
        return any(w.role == "primary" for w in self._holders(at))

    def gaps(self, start: datetime, end: datetime) -> list[Gap]:
        """Stretches of [start, end) with no primary nurse on call, merged, with who is paged instead."""
        cuts = {start, end}
        for window in self._windows(start, end):
            cuts.update(t for t in (window.start, window.end) if start < t < end)
        points = sorted(cuts)
        gaps: list[Gap] = []
        for a, b in zip(points, points[1:], strict=False):
            if self.primary_on_call(a):
                continue
            covered = tuple(n.name for n in self.chain(a))
            if gaps and gaps[-1].end == a and gaps[-1].covered_by == covered:
                gaps[-1] = Gap(gaps[-1].start, b, covered)
            else:
                gaps.append(Gap(a, b, covered))
        return gaps

    def _holders(self, at: datetime) -> list[_Window]:
        """Shift and override windows covering `at`; an override replaces the weekly shifts of its role."""
        covering = [w for w in self._windows(at, at + timedelta(microseconds=1)) if w.start <= at < w.end]
        overridden = {w.role for w in covering if w.override}
        return [w for w in covering if w.override or w.role not in overridden]

    def _windows(self, start: datetime, end: datetime) -> Iterator[_Window]:
        """Every override, then every weekly shift occurrence, overlapping [start, end), in file order."""
        for override in self.spec.overrides:
            nurse = self.nurse_by_name(override.nurse)
            begin, finish = self._aware(override.start), self._aware(override.end)
            if nurse is not None and begin < end and finish > start:
                yield _Window(begin, finish, nurse, override.role, True, override.reason)
        shifts = self.spec.shifts
        if not shifts:  # the old meaning: the first nurse is always on call
            yield _Window(start, end, self.spec.nurses[0], "primary", False)
            return
        for shift in shifts:
            nurse = self.nurse_by_name(shift.nurse)
            if nurse is None:
                continue
            zone = ZoneInfo(shift.timezone or self.spec.timezone)
            first = start.astimezone(zone).date() - timedelta(days=1)  # yesterday's overnight shift
            last = end.astimezone(zone).date()
            day = first
            while day <= last:
                if day.weekday() in shift.days:
                    begin = _at(day, shift.hours[0], zone)
                    finish = _at(day, shift.hours[1] + (DAY if shift.hours[1] <= shift.hours[0] else 0), zone)
                    if begin < end and finish > start:
                        yield _Window(begin, finish, nurse, shift.role, False)
                day += timedelta(days=1)

    def _aware(self, value: datetime) -> datetime:
        return (value if value.tzinfo else value.replace(tzinfo=self.zone)).astimezone(UTC)


def _at(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Wall-clock `minutes` after midnight of `day` in `zone` (across DST changes), as UTC."""
    day = day + timedelta(days=minutes // DAY)
    minutes %= DAY
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone).astimezone(UTC)


def _cross_check(spec: RosterFile, path: str, lines: dict[YamlPath, int]) -> tuple[list[str], list[str]]:
    """References between parts of the file, reported with their line; and warnings that do not block."""
    problems: list[str] = []

    def problem(where: YamlPath, reason: str) -> None:
        problems.append(f"{path}:{line_for(lines, where)}: {'.'.join(str(p) for p in where)}: {reason}")

    names: dict[str, int] = {}
    phones: dict[str, int] = {}
    for index, nurse in enumerate(spec.nurses):
        if nurse.name in names:
            problem(("nurses", index, "name"), f"{nurse.name!r} is already nurse {names[nurse.name]}")
        if nurse.phone in phones:
            problem(("nurses", index, "phone"), f"the same number as nurse {phones[nurse.phone]}")
        names.setdefault(nurse.name, index)
        phones.setdefault(nurse.phone, index)
    for part in ("shifts", "overrides"):
        for index, entry in enumerate(getattr(spec, part)):
            if entry.nurse not in names:
                problem((part, index, "nurse"), f"no nurse named {entry.nurse!r} in nurses")
    if spec.supervisor is not None and spec.supervisor not in names:
        problem(("supervisor",), f"no nurse named {spec.supervisor!r} in nurses")
    if len(set(spec.chain)) != len(spec.chain):
        problem(("chain",), "a step is listed twice")
    if spec.fallback is not None and spec.fallback.phone in phones:
        problem(("fallback", "phone"), "the fallback must be another number than the nurses' (it is alerted "
                "after they were all paged)")
    warnings = []
    if spec.fallback is None:
        warnings.append(f"{path}: warning: no fallback number: when no nurse acknowledges, nobody else is "
                        "alerted (the patient has only the flow's emergency advice)")
    if "supervisor" in spec.chain and spec.supervisor is None and spec.shifts:
        warnings.append(f"{path}: warning: the chain names a supervisor but `supervisor:` is not set")
    if spec.ack_timeout_emergency > spec.ack_timeout:
        warnings.append(f"{path}: warning: ack_timeout_emergency is longer than ack_timeout")
    return problems, warnings


def load_roster(path: str | Path) -> Roster:
    """Parse and check ROSTER_FILE; raises FileProblems (one `file:line: where: reason` per problem)."""
    name = str(path)
    spec, lines = parse_model(read_source(path), name, RosterFile)
    problems, warnings = _cross_check(spec, name, lines)
    if problems:
        raise FileProblems(name, problems)
    for warning in warnings:
        log.warning("roster.warning %s", warning)
    return Roster(spec=spec, path=name, warnings=tuple(warnings))
