"""When a scheduled text may go: the patient's daytime, and the TCPA healthcare exemption's caps.

Pure functions (no database, no clock):
- quiet hours: nothing scheduled between 21:00 and 08:00 in the patient's time zone
  (references.md, "Rules for texting patients"); emergencies are never held back, so pages and
  replies to the patient's own texts do not come through here;
- at most 1 scheduled text a day and 3 a week per patient (TCPA healthcare exemption, FCC 15-72,
  references.md): a day is the patient's local calendar day, a week any 7 consecutive local days;
- a text held for the morning goes out between 08:00 and 08:30, spread by patient, so the night's
  check-ins do not all leave in the same second.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones

DAY_STARTS = time(8, 0)
QUIET_STARTS = time(21, 0)
MORNING_SPREAD = timedelta(minutes=30)
PER_DAY = 1
PER_WEEK = 3
WEEK_DAYS = 7


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def zone_from_number(phone: str | None) -> str | None:
    """The number's time zone when phonenumbers can tell (exactly one zone), else None."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    zones = phone_zones.time_zones_for_number(number)
    if len(zones) == 1 and zones[0] != phone_zones.UNKNOWN_TIMEZONE:
        return zones[0]
    return None  # a country or area code that spans zones: the clinic's zone is the better guess


def patient_zone(timezone: str | None, phone: str | None, default: str) -> ZoneInfo:
    """The patient's own zone (roster / patient record), else the number's, else the clinic's."""
    for guess in (lambda: timezone, lambda: zone_from_number(phone), lambda: default):
        name = guess()
        zone = _zone(name) if name else None
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


def _morning(day: date, zone: ZoneInfo, spread_key: int) -> datetime:
    offset = timedelta(seconds=(spread_key * 7919) % int(MORNING_SPREAD.total_seconds()))
    return datetime.combine(day, DAY_STARTS, tzinfo=zone) + offset


def quiet(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone).time()
    return local < DAY_STARTS or local >= QUIET_STARTS


def next_send_time(at: datetime, zone: ZoneInfo, sent: Iterable[datetime], spread_key: int = 0) -> datetime:
    """The earliest time, from `at` on, that a scheduled text may go to this patient.

    `sent` holds when the patient's earlier scheduled texts (check-ins, reminders) were queued.
    """
    days = sorted(s.astimezone(zone).date() for s in sent)
    moment = at
    for _ in range(WEEK_DAYS * 2 + 2):  # each pass moves to a later morning; a week's caps settle in a few
        local = moment.astimezone(zone)
        day = local.date()
        if local.time() < DAY_STARTS:
            moment = _morning(day, zone, spread_key)
            continue
        if local.time() >= QUIET_STARTS:
            moment = _morning(day + timedelta(days=1), zone, spread_key)
            continue
        if sum(d == day for d in days) >= PER_DAY:
            moment = _morning(day + timedelta(days=1), zone, spread_key)
            continue
        week = [d for d in days if day - timedelta(days=WEEK_DAYS - 1) <= d <= day]
        if len(week) >= PER_WEEK:
            # Wait until enough of this week's texts are more than a week old.
            moment = _morning(week[-PER_WEEK] + timedelta(days=WEEK_DAYS), zone, spread_key)
            continue
        return moment.astimezone(UTC)
    raise RuntimeError("no send time found")  # unreachable with sane caps; never loop forever
