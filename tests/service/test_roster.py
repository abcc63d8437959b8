"""The on-call roster: weekly shifts in a named time zone, overrides, the chain, gaps, and the CLI."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from service import create_app
from service.engine.yamlfile import FileProblems
from service.escalation.roster import load_roster
from service.escalation.roster_store import RosterStore
from service.settings import ROOT, Settings
from tests.conftest import NURSE_AVERY, NURSE_BLAKE, SUPERVISOR, FakeClock

EXAMPLE = ROOT / "roster.example.yaml"
DEVON = "+12125550103"
FALLBACK = "+12125550108"


def ny(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


def phones(roster, at: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.phone for n in roster.chain(at)]


@pytest.mark.parametrize("at, expected", [
    (ny(2026, 3, 2, 10), [NURSE_AVERY, NURSE_BLAKE, SUPERVISOR]),  # the test clock's start: weekday day shift
    (ny(2026, 3, 2, 7, 59), [SUPERVISOR]),  # Sunday night: overnight shifts are mon-thu only, a gap
    (ny(2026, 3, 2, 18), [NURSE_BLAKE, DEVON, SUPERVISOR]),  # evening
    (ny(2026, 3, 3, 3), [DEVON, SUPERVISOR]),  # Monday's overnight shift runs into Tuesday
    (ny(2026, 3, 6, 10), [NURSE_BLAKE, DEVON, SUPERVISOR]),  # Friday override: holiday cover for Avery
    (ny(2026, 3, 6, 17, 30), [NURSE_BLAKE, DEVON, SUPERVISOR]),  # override over, weekly evening shift again
    (ny(2026, 3, 7, 23), [SUPERVISOR]),  # Saturday night: a gap, the supervisor alone
    (ny(2026, 3, 8, 10), [DEVON, NURSE_BLAKE, SUPERVISOR]),  # Sunday day (after the DST change)
])
def test_example_roster_chain(at: datetime, expected: list[str]) -> None:
    roster = load_roster(EXAMPLE)
    assert phones(roster, at) == expected
    assert roster.fallback is not None and roster.fallback.phone == FALLBACK


def test_example_roster_gaps_in_the_test_week_follow_new_york_time_across_dst() -> None:
    roster = load_roster(EXAMPLE)
    start = ny(2026, 3, 2, 10)
    gaps = [(g.start, g.end, g.covered_by) for g in roster.gaps(start, start + timedelta(days=7))]
    assert gaps == [
        (ny(2026, 3, 6, 22), ny(2026, 3, 7, 9), ("Supervisor Casey",)),
        (ny(2026, 3, 7, 17), ny(2026, 3, 8, 9), ("Supervisor Casey",)),
        # 2026-03-08 is the spring-forward day: 17:00 EDT is 21:00 UTC, not 22:00.
        (ny(2026, 3, 8, 17), ny(2026, 3, 9, 8), ("Supervisor Casey",)),
    ]
    assert gaps[2][0] == datetime(2026, 3, 8, 21, tzinfo=UTC)
    assert roster.ack_timeout_for("emergency") == timedelta(minutes=2)
    assert roster.ack_timeout_for("nurse_callback") == timedelta(minutes=5)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.yaml"
    path.write_text(text, encoding="utf-8")
    return path


NURSES = """\
nurses:
  - {name: A, phone: "+12125550101"}
  - {name: B, phone: "+12125550102"}
  - {name: C, phone: "+12125550103"}
"""


def test_a_roster_with_only_nurses_keeps_the_first_nurse_always_on_call(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, NURSES))
    for at in (ny(2026, 3, 2, 10), ny(2026, 3, 7, 3), ny(2026, 12, 25, 23, 59)):
        assert phones(roster, at) == ["+12125550101"]
    assert roster.gaps(ny(2026, 3, 2, 0), ny(2026, 3, 9, 0)) == []
    assert roster.ack_timeout == timedelta(minutes=5)
    assert any("no fallback" in w for w in roster.warnings)


def test_overlapping_shifts_page_both_in_file_order_and_overnight_shift_wraps(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, NURSES + """\
timezone: America/Chicago
shifts:
  - {nurse: B, days: [mon, wed], hours: "09:00-13:00"}
  - {nurse: A, days: daily, hours: 12:00-18:00}
  - {nurse: C, days: fri-mon, hours: 22:00-06:00, timezone: America/Los_Angeles}
"""))
    chicago_noon = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)  # Mon 12:30 CST
    assert phones(roster, chicago_noon) == ["+12125550102", "+12125550101"]
    assert phones(roster, datetime(2026, 3, 3, 18, 30, tzinfo=UTC)) == ["+12125550101"]  # Tuesday: B is off
    # Sunday 22:00 Los Angeles (PDT after 2026-03-08) -> Monday 06:00: C.
    assert phones(roster, datetime(2026, 3, 9, 12, 59, tzinfo=UTC)) == ["+12125550103"]
    assert phones(roster, datetime(2026, 3, 9, 13, 0, tzinfo=UTC)) == []
    # Thursday 22:00 LA is not one of C's days.
    assert phones(roster, datetime(2026, 3, 6, 7, 0, tzinfo=UTC)) == []


@pytest.mark.parametrize("extra, line, words", [
    ("shifts:\n  - {nurse: Zed, days: mon, hours: 08:00-17:00}\n", 7, "no nurse named 'Zed'"),
    ("shifts:\n  - nurse: A\n    days: mon\n    hours: 8am to 5pm\n", 9, "expected hours like '08:00-17:00'"),
    ("shifts:\n  - nurse: A\n    days: funday\n    hours: 08:00-17:00\n", 8, "unknown day 'funday'"),
    ("shifts:\n  - nurse: A\n    days: mon\n    hours: 08:00-08:00\n", 9, "use 00:00-24:00 for all day"),
    ("timezone: Mars/Olympus\n", 6, "unknown time zone 'Mars/Olympus'"),
    ("overrides:\n  - nurse: B\n    start: 2026-03-06 17:00\n    end: 2026-03-06 08:00\n", 7, "end must be after"),
    ("fallback: \"+12125550102\"\n", 6, "another number than the nurses'"),
    ("supervisor: Nobody\n", 6, "no nurse named 'Nobody'"),
    ("ack_timeout: soon\n", 6, "expected a duration"),
])
def test_bad_rosters_are_refused_with_file_and_line(tmp_path: Path, extra: str, line: int, words: str) -> None:
    path = write(tmp_path, NURSES + "chain: [primary, backup]\n" + extra)
    with pytest.raises(FileProblems) as caught:
        load_roster(path)
    [problem] = caught.value.problems
    assert problem.startswith(f"{path}:{line}: ") and words in problem, problem


def test_duplicate_nurse_numbers_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, NURSES + '  - {name: D, phone: "(212) 555-0101"}\n')
    with pytest.raises(FileProblems, match=r"roster.yaml:5: nurses.3.phone: the same number as nurse 0"):
        load_roster(path)


def test_roster_check_prints_who_is_on_call_and_the_gaps(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["roster", "check"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "roster.example.yaml: ok (4 nurses, 7 weekly shifts, 2 overrides" in out
    assert "On call at Mon 2026-03-02 10:00 EST:" in out
    lines = out.splitlines()
    first = lines.index("On call at Mon 2026-03-02 10:00 EST:")
    assert "primary" in lines[first + 1] and "Nurse Avery" in lines[first + 1] and "until Mon 2026-03-02 17:00" \
        in lines[first + 1]
    assert "backup" in lines[first + 2] and "Nurse Blake" in lines[first + 2]
    assert "supervisor" in lines[first + 3] and "Supervisor Casey" in lines[first + 3]
    assert "then fallback: Clinic answering service +1 212-555-0108" in out
    assert "Gaps in the next 7 days (no primary nurse on call): 3" in out
    assert "Fri 2026-03-06 22:00 EST -> Sat 2026-03-07 09:00 EST (11h): paged instead: Supervisor Casey" in out
    assert "Sun 2026-03-08 17:00 EDT -> Mon 2026-03-09 08:00 EDT (15h)" in out


def test_roster_who_answers_for_any_time(app: Flask) -> None:
    runner = app.test_cli_runner()
    saturday = runner.invoke(args=["roster", "who", "--at", "2026-03-07 23:00"])
    assert saturday.exit_code == 0, saturday.output
    assert "On call at Sat 2026-03-07 23:00 EST:" in saturday.output
    assert "1. supervisor Supervisor Casey" in saturday.output and "Nurse" not in saturday.output
    assert "no primary nurse on call: this is a gap" in saturday.output
    evening = runner.invoke(args=["roster", "who", "--at", "18:30"])  # today (the test clock), New York time
    assert "On call at Mon 2026-03-02 18:30 EST:" in evening.output
    assert "1. primary    Nurse Blake" in evening.output and "2. backup     Nurse Devon" in evening.output
    utc = runner.invoke(args=["roster", "who", "--at", "2026-03-06T15:00:00+00:00"])
    assert "holiday cover for Nurse Avery" in utc.output
    bad = runner.invoke(args=["roster", "who", "--at", "next tuesday"])
    assert bad.exit_code != 0 and "use 'now', HH:MM" in bad.output


def test_roster_check_on_a_broken_file_exits_1_with_file_line(app: Flask, tmp_path: Path) -> None:
    path = write(tmp_path, NURSES + "shifts:\n  - {nurse: Zed, days: mon, hours: 08:00-17:00}\n")
    result = app.test_cli_runner().invoke(args=["roster", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:6: shifts.0.nurse: no nurse named 'Zed' in nurses" in result.output


def _touch_later(path: Path, seconds: int) -> None:
    """A later modification time, as an editor's save gives (file systems may keep a coarse clock)."""
    stamp = path.stat().st_mtime + seconds
    os.utime(path, (stamp, stamp))


def test_an_edited_roster_is_used_without_a_restart_and_a_broken_edit_is_not(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, NURSES)
    store = RosterStore(path)
    at = ny(2026, 3, 2, 10)
    assert phones(store.current(), at) == ["+12125550101"]
    path.write_text(NURSES.replace('{name: A, phone: "+12125550101"}', '{name: A, phone: "+12125550109"}'))
    _touch_later(path, 1)
    assert phones(store.current(), at) == ["+12125550109"]  # the next page goes to the new number
    path.write_text(NURSES + "chain: [nobody]\n")
    _touch_later(path, 2)
    with caplog.at_level("ERROR"):
        assert phones(store.current(), at) == ["+12125550109"]  # refused: the last good roster stays
    assert "roster.reload_rejected" in caplog.text and "+1212" not in caplog.text
    path.write_text(NURSES)
    _touch_later(path, 3)
    assert phones(store.current(), at) == ["+12125550101"]


def test_the_app_pages_from_the_roster_as_the_file_now_is(settings: Settings, clock: FakeClock,
                                                         tmp_path: Path) -> None:
    path = write(tmp_path, NURSES)
    app = create_app(replace(settings, roster_file=str(path)), clock=clock)
    try:
        svc = app.extensions["triage"]
        assert phones(svc.roster, clock()) == ["+12125550101"]
        path.write_text(NURSES.replace("{name: A, ", "{name: Z, "), encoding="utf-8")
        _touch_later(path, 1)
        assert [n.name for n in svc.roster.chain(clock())] == ["Z"]
    finally:
        svc.shutdown()
        svc.engine.dispose()
