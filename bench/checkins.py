"""Benchmark: the real clock process with 100 000 pending check-ins. A script, not a test.

    python bench/checkins.py                      # scratch SQLite database
    DATABASE_URL=postgresql://... python bench/checkins.py   # a scratch schema in that database

What it does:
1. Seeds a fresh database with 100 000 pending check-ins (one patient and one finished home-care
   conversation each, as the webhooks would have left them):
   - `--overdue` (1 000) were due in the hour before the start: the clock was down (catch-up);
   - `--live` (1 800) fall due one after another during the run, `--rate` per second (10);
   - `--night` (500) fall due during the run for patients where it is night now: quiet hours;
   - the rest fall due 1 to 72 hours later (pending, not yet due).
2. Starts the real clock process, `flask --app service clock` (APScheduler, every job, console
   transport with its output to a file), exactly as the Procfile's `clock:` line does; `--clocks 2`
   starts two (Postgres), which must still send each check-in once.
3. Waits until every check-in due during the run has gone out (or `--timeout`), then stops the
   clock with SIGTERM, as a platform restart would.
4. Prints: start-up time (spawn -> scheduler running), the clock process's peak memory (max RSS,
   from wait4), and for the daytime check-ins how late each went out after it fell due (the
   console transport's send time, messages.sent_at) as p50 / p99 / max; how long the catch-up took;
   that no night-time check-in went out; that no check-in went out twice.

Time is compressed, not faked: the clock runs on real time, and 100 000 pending check-ins would
in real use fall due over about three days (0.4 a second on average, and at most a few a second
when the night's check-ins are released between 08:00 and 08:30: about 8 a second if a whole
night's share, 15 000, were released then). The run instead makes them fall due at `--rate` per second
(10/s = 36 000 an hour) for three minutes, after a backlog of 1 000, with the full 100 000 pending in
the table: a load heavier than the busiest real morning, in a few minutes.
To keep "outside quiet hours" true whatever the hour you run it, patients are given fixed-offset
zones (Etc/GMT+n) where it is early afternoon now; the night group gets one where it is 01:00.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, Connection, Dialect, Table, TypeDecorator, func, insert, select, text  # noqa: E402
from sqlalchemy.types import TypeEngine  # noqa: E402

from service.db import make_engine, scratch_schema  # noqa: E402
from service.engine.flow import Level  # noqa: E402
from service.engine.state import DONE, State  # noqa: E402
from service.flowstore import FlowStore  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Checkin, Conversation, FlowVersion, Message, Patient  # noqa: E402
from service.privacy.keys import Keyring, new_key  # noqa: E402

CHUNK = 5000


def zone_at(local_hour: int, now: datetime) -> str:
    """A fixed-offset zone where the local time is about `local_hour` now."""
    offset = (local_hour - now.hour + 12) % 24 - 12  # -12..11 hours from UTC
    return "Etc/GMT" + (f"{-offset:+d}" if offset else "")  # Etc/GMT+5 is UTC-5 (POSIX signs)


def scratch_database() -> tuple[str, Callable[[], None]]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        stack = ExitStack()
        return stack.enter_context(scratch_schema(url, "bench")), stack.close
    folder = Path(tempfile.mkdtemp(prefix="bench-checkins-"))
    return f"sqlite:///{folder / 'bench.sqlite3'}", lambda: None


def seed(url: str, args: argparse.Namespace, keyring: Keyring | None) -> dict[str, tuple[int, int]]:
    """Rows as the webhooks would have left them. Returns check-in id ranges per group.

    The bulk (every patient and conversation, and the check-ins not due during the run) goes in first,
    by COPY on Postgres (a million rows of each in well under a minute); then the check-ins due during
    the run, timed from the moment the bulk is in, so a slow seed never makes them overdue."""
    engine = make_engine(url, keyring)
    upgrade(engine)
    loaded = FlowStore(ROOT / "flows").current()
    now = datetime.now(UTC)
    day_zone, night_zone = zone_at(13, now), zone_at(1, now)
    state = State(status=DONE, outcome="out_home_care", level=Level.home_care, privacy_notice_sent=True).to_json()
    overdue, live, night = args.overdue, args.live, args.night
    groups = {"overdue": (1, overdue), "live": (overdue + 1, overdue + live),
              "night": (overdue + live + 1, overdue + live + night),
              "future": (overdue + live + night + 1, args.pending)}
    night_ids = range(groups["night"][0], groups["night"][1] + 1)
    yesterday = now - timedelta(days=1)  # one object for every row: COPY converts it once (_copy)

    def patient(i: int) -> dict[str, Any]:
        return dict(id=i, phone=f"+1212{2000000 + i:07d}", language="en", privacy_notice_sent=True,
                    timezone=night_zone if i in night_ids else day_zone, created_at=now, messaging_channel="sms")

    def conversation(i: int) -> dict[str, Any]:
        return dict(id=i, patient_id=i, flow_id=loaded.flow.id, flow_version=loaded.version, channel="sms",
                    state=state, status=DONE, outcome="out_home_care", level="home_care", disposition="self_care",
                    started_at=yesterday, updated_at=yesterday, silence_stage=0, version=1)

    def checkin(i: int, due_at: datetime) -> dict[str, Any]:
        return dict(id=i, patient_id=i, conversation_id=i, ask="ci_how_are_you", due_at=due_at, status="pending",
                    attempts=0, created_at=yesterday)

    everyone = range(1, args.pending + 1)
    future = range(groups["future"][0], args.pending + 1)
    write = _copy if url.startswith("postgres") else _insert
    with engine.begin() as connection:
        if url.startswith("postgres"):  # no cap (db.STATEMENT_TIMEOUT_MS) on the seed
            connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(insert(FlowVersion).values(version=loaded.version, flow_id=loaded.flow.id,
                                                      path=Path(loaded.path).name, source=loaded.source,
                                                      first_served_at=now))
        write(connection, Patient.__table__, map(patient, everyone))
        write(connection, Conversation.__table__, map(conversation, everyone))
        write(connection, Checkin.__table__, (checkin(i, now + timedelta(hours=1, seconds=(i * 7919) % (71 * 3600)))
                                              for i in future))
    now = datetime.now(UTC)
    start = now + timedelta(seconds=args.lead)  # when the first live check-in falls due

    def due(i: int) -> datetime:
        if i <= overdue:  # due in the hour before the clock starts: it was down (catch-up)
            return now - timedelta(seconds=3600 * i / overdue)
        if i <= overdue + live:
            return start + timedelta(seconds=(i - overdue - 1) / args.rate)
        return start + timedelta(seconds=(i - overdue - live - 1) * live / night / args.rate)

    with engine.begin() as connection:
        _insert(connection, Checkin.__table__, (checkin(i, due(i)) for i in range(1, groups["future"][0])))
    if url.startswith("postgres"):
        with engine.begin() as connection:  # explicit ids: move the sequences past them
            for table in ("patients", "conversations", "checkins"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {args.pending})"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))  # as autovacuum would have done: plans for a million rows
    engine.dispose()
    return groups


def _insert(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    for chunk in iter(lambda: list(islice(rows, CHUNK)), []):
        connection.execute(insert(table), chunk)


def _copy(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Postgres COPY, each value through its column's type (sealed columns are sealed, times UTC); a value
    that is the very object of the row before (the same state, the same time) is converted once."""
    dialect = connection.dialect
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    columns = [table.c[name] for name in first]
    convert = [_to_copy(column.type, dialect) for column in columns]
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    names = ", ".join(column.name for column in columns)
    last: list[Any] = [object()] * len(columns)
    converted: list[Any] = [None] * len(columns)
    with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in chain([first], rows):
            for n, value in enumerate(row.values()):
                if value is not last[n]:
                    last[n], converted[n] = value, convert[n](value)
            copy.write_row(converted)


def _to_copy(column_type: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What COPY is given for one column: the column type's own conversion (sealing, UTC), and JSON as text."""
    decorate = column_type.process_bind_param if isinstance(column_type, TypeDecorator) else None
    if isinstance(column_type.dialect_impl(dialect), JSON) or isinstance(getattr(column_type, "impl", None), JSON):
        return lambda value: json.dumps(decorate(value, dialect) if decorate else value)
    return column_type.bind_processor(dialect) or (lambda value: value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--overdue", type=int, default=1_000)
    parser.add_argument("--live", type=int, default=1_800)
    parser.add_argument("--night", type=int, default=500)
    parser.add_argument("--rate", type=float, default=10.0, help="live check-ins falling due per second")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds from seeded to the first live one")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--clocks", type=int, default=1, help="clock processes (Postgres: any number)")
    args = parser.parse_args()

    url, drop = scratch_database()
    # Sealed at rest, as in production (where a shared database requires a key): the seed and the clock share it.
    data_key = os.environ.get("DATA_KEY") or new_key()
    try:
        began = time.monotonic()
        groups = seed(url, args, Keyring.parse(data_key))
        print(f"seeded {args.pending} pending check-ins in {time.monotonic() - began:.1f} s "
              f"({'Postgres' if url.startswith('postgres') else 'SQLite'})", flush=True)
        run(url, groups, args, data_key)
    finally:
        drop()


def run(url: str, groups: dict[str, tuple[int, int]], args: argparse.Namespace, data_key: str) -> None:
    logs = Path(tempfile.mkdtemp(prefix="bench-clock-"))
    # AUTO_MIGRATE=0: as in production, where the release phase (Procfile) migrates, not the clock.
    env = {**os.environ, "DATABASE_URL": url, "TRIAGE_TRANSPORT": "console", "RUN_CLOCK": "0", "AUTO_MIGRATE": "0",
           "PYTHONUNBUFFERED": "1", "CLINIC_NAME": "Bench Clinic", "DATA_KEY": data_key,
           "SECRET_KEY": os.environ.get("SECRET_KEY") or new_key()}
    started_at = datetime.now(UTC)
    clocks = [spawn(env, logs / f"clock{n}") for n in range(args.clocks)]
    startups = [wait_started(*clock) for clock in clocks]
    if None in startups:  # a clock that cannot start (bad settings) would leave nothing to measure
        for process, _, _ in clocks:
            process.kill()
        sys.exit(f"a clock did not start: see {logs}/clock*/stderr.txt")
    engine = make_engine(url)
    first, last = groups["overdue"][0], groups["night"][1]
    live_end = groups["live"][1]
    deadline = time.monotonic() + args.timeout
    with engine.connect() as connection:
        last_due = connection.scalar(select(func.max(Checkin.due_at)).where(Checkin.id.between(first, live_end)))
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            out = connection.scalar(select(func.count(func.distinct(Message.checkin_id))).where(
                Message.checkin_id.between(first, live_end), Message.status == "sent"))
        if out >= live_end - first + 1 and datetime.now(UTC) > last_due + timedelta(seconds=15):
            break
        time.sleep(1)
    peaks = []
    for process, _, _ in clocks:
        process.send_signal(signal.SIGTERM)  # as a platform restart would
    for process, _, _ in clocks:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        peaks.append(usage.ru_maxrss / 1024)
    report(engine, groups, startups, started_at, peaks, first, last)
    engine.dispose()
    print(f"clock logs: {logs}")


def spawn(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], Path, float]:
    """`flask --app service clock`, as the Procfile's clock line runs it."""
    log.mkdir()
    with open(log / "stdout.txt", "wb") as stdout, open(log / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "service", "clock"], cwd=ROOT, env=env,
                                   stdout=stdout, stderr=stderr)
    return process, log / "stdout.txt", time.monotonic()


def wait_started(process: subprocess.Popen[bytes], stdout: Path, spawned: float) -> float | None:
    while time.monotonic() - spawned < 60 and process.poll() is None:
        if "clock running" in stdout.read_text():
            return time.monotonic() - spawned
        time.sleep(0.02)
    return None


def report(engine, groups, startups, started_at, peaks, first, last) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        rows = connection.execute(
            select(Checkin.id, Checkin.due_at, Message.sent_at)
            .join(Message, Message.checkin_id == Checkin.id)
            .where(Checkin.id.between(first, last), Message.kind == "checkin", Message.status == "sent")
        ).all()
        per_checkin = connection.execute(
            select(Message.checkin_id, func.count()).where(Message.kind == "checkin")
            .group_by(Message.checkin_id).having(func.count() > 1)).all()
        pending_left = connection.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending"))
        night_deferred = connection.scalar(select(func.min(Checkin.due_at)).where(
            Checkin.id.between(*groups["night"])))
    in_group = {name: [r for r in rows if lo <= r.id <= hi] for name, (lo, hi) in groups.items()}
    late = [(_utc(r.sent_at) - _utc(r.due_at)).total_seconds() for r in in_group["live"]]
    live_count = groups["live"][1] - groups["live"][0] + 1
    overdue_count = groups["overdue"][1] - groups["overdue"][0] + 1
    catch_up = max((_utc(r.sent_at) - started_at).total_seconds() for r in in_group["overdue"]) \
        if in_group["overdue"] else float("nan")
    print()
    shown = ", ".join(f"{s:.2f} s" if s is not None else "did not start" for s in startups)
    print(f"clock processes: {len(startups)}")
    print(f"start-up (spawn -> scheduler running): {shown}")
    print(f"peak memory of each clock process:     {', '.join(f'{p:.0f} MB' for p in peaks)} (max RSS)")
    print(f"daytime check-ins due during the run:  {len(late)}/{live_count} out")
    if late:
        print(f"  lateness after due: p50 {statistics.median(late):.1f} s, p99 {percentile(late, 0.99):.1f} s, "
              f"max {max(late):.1f} s; over 60 s: {sum(x > 60 for x in late)}")
    print(f"overdue at start (catch-up): {len(in_group['overdue'])}/{overdue_count} out, "
          f"the last {catch_up:.1f} s after the clock started")
    print(f"night-time check-ins sent: {len(in_group['night'])} (held until "
          f"{_utc(night_deferred).isoformat(timespec='minutes') if night_deferred else '-'})")
    print(f"check-ins sent more than once: {len(per_checkin)}; still pending: {pending_left}")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


if __name__ == "__main__":
    main()
