"""`flask --app service roster check|who`: the on-call roster as the service will use it."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from ..engine.yamlfile import FileProblems
from ..phones import pretty
from .roster import Roster, load_roster

roster_cli = AppGroup("roster", help="The on-call roster (ROSTER_FILE): who is paged, and when nobody is.")
LOOKAHEAD = timedelta(days=7)
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def _load(file: str | None) -> Roster:
    path = file or current_app.extensions["triage"].settings.roster_file
    try:
        return load_roster(path)
    except FileProblems as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)


def _local(roster: Roster, at: datetime) -> str:
    return at.astimezone(roster.zone).strftime("%a %Y-%m-%d %H:%M %Z")


def _span(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()) // 60, 60)
    return f"{hours}h{rest:02d}" if rest else f"{hours}h"


def describe(roster: Roster, at: datetime) -> list[str]:
    """Who is paged, in order, at `at`, and what happens after them."""
    lines = [f"On call at {_local(roster, at)}:"]
    on_call = roster.on_call(at)
    for number, entry in enumerate(on_call, 1):
        until = f" (until {_local(roster, entry.until)})" if entry.until and entry.until - at < LOOKAHEAD else ""
        reason = f" [{entry.reason}]" if entry.reason else ""
        lines.append(f"  {number}. {entry.role:<10} {entry.nurse.name} {pretty(entry.nurse.phone)}{until}{reason}")
    if not on_call:
        lines.append("  nobody: escalations go straight to the fallback")
    fallback = roster.fallback
    lines.append(f"  then fallback: {fallback.name} {pretty(fallback.phone)}" if fallback
                 else "  then no fallback number: nobody else is alerted (the patient has the flow's advice)")
    if not roster.primary_on_call(at):
        lines.append("  (no primary nurse on call: this is a gap)")
    return lines


@roster_cli.command("check")
@click.argument("file", required=False)
def roster_check(file: str | None) -> None:
    """Validate the roster, print who is on call now and the gaps in the coming 7 days."""
    roster = _load(file)
    spec = roster.spec
    now = current_app.extensions["triage"].clock()
    click.echo(f"{roster.path}: ok ({len(spec.nurses)} nurses, {len(spec.shifts)} weekly shifts, "
               f"{len(spec.overrides)} overrides; ack timeout {_span_min(spec.ack_timeout)}, emergencies "
               f"{_span_min(spec.ack_timeout_emergency)}, {spec.repages} re-page(s) per nurse)")
    for warning in roster.warnings:
        click.echo(warning)
    for line in describe(roster, now):
        click.echo(line)
    gaps = roster.gaps(now, now + LOOKAHEAD)
    if not gaps:
        click.echo("No gaps in the next 7 days: a primary nurse is on call throughout.")
        return
    click.echo(f"Gaps in the next 7 days (no primary nurse on call): {len(gaps)}")
    for gap in gaps:
        covered = ", ".join(gap.covered_by) or "nobody (fallback only)"
        click.echo(f"  {_local(roster, gap.start)} -> {_local(roster, gap.end)} ({_span(gap.end - gap.start)}): "
                   f"paged instead: {covered}")


def _span_min(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"


def parse_when(text: str, roster: Roster, now: datetime) -> datetime:
    """'now', '14:30' (today, roster zone), '2026-03-07 23:00' (roster zone) or ISO 8601 with an offset."""
    value = text.strip()
    if value.lower() == "now":
        return now
    clock = _CLOCK.match(value)
    if clock:
        today = now.astimezone(roster.zone).date()
        hour, minute = int(clock.group(1)), int(clock.group(2))
        if hour > 23 or minute > 59:
            raise click.BadParameter(f"{text!r} is not a time of day")
        return datetime(today.year, today.month, today.day, hour, minute, tzinfo=roster.zone).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{text!r}: use 'now', HH:MM, 'YYYY-MM-DD HH:MM' or ISO 8601") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=roster.zone)).astimezone(UTC)


@roster_cli.command("who")
@click.option("--at", "when", default="now", show_default=True,
              help="A time: HH:MM today or 'YYYY-MM-DD HH:MM' in the roster's time zone, or ISO 8601.")
@click.option("--file", "file", help="Another roster file (default: ROSTER_FILE).")
def roster_who(when: str, file: str | None) -> None:
    """Who would be paged, in order, at a given time."""
    roster = _load(file)
    at = parse_when(when, roster, current_app.extensions["triage"].clock())
    for line in describe(roster, at):
        click.echo(line)
