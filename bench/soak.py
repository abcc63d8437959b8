"""Soak with faults: the whole service under load while its processes are killed. A script, not a test.

    DATABASE_URL=postgresql://... python bench/soak.py     # 10 minutes, a kill every 20 s (the benchmark)
    python bench/soak.py                                    # the same on a scratch SQLite file
    python bench/soak.py --duration 40 --kill-every 8 --workers 1 --think 1.5 --ack-timeout 10  # about
                                                            # tests/process/test_soak.py's short form

What runs, as deployed (Procfile): `--webs` web processes, each `gunicorn -c gunicorn.conf.py` with
`--workers` workers, and `--clocks` clock processes, `flask --app service clock`, all on one scratch
database (a new schema in DATABASE_URL's Postgres, else a SQLite file), migrated first as the release
phase does; the Twilio fake (tests/twilio_fake.py, every REST call checked against Twilio's OpenAPI) in a
process of its own. The pieces are bench/load.py's (fake, database, gunicorn start and stop) and
bench/checkins.py's (starting a clock, as its benchmark does).

What happens for `--duration` seconds:
- `--texters` simulated patients text conversation after conversation, each from a new number, pausing
  `--think` seconds on average before each answer; `--red-flag-share` of the conversations answer a red
  flag ("yes" to the bladder question: ED now, the on-call nurse is paged), the rest go the benign way to
  home-care advice.
- Twilio's side: each webhook goes to one of the web processes at random (the platform's router) and,
  if it fails (no connection, no answer in 15 s, a 5xx), is sent again as Twilio retries it: the same
  form (MessageSid) and the same I-Twilio-Idempotency-Token, after 0.5, 1, 2, 4... s, up to `--retries`.
- Check-ins fall due: `--checkin-rate` a second through the run, each for its own patient after a finished
  home-care triage (seeded as the webhooks would have left them, in the patient's daytime); the clocks send them.
- Nurses acknowledge: for `--ack-share` of the cases, the nurse a page reached texts "ACK <case>" from
  her roster phone 2 to 3 ack timeouts after the first page (so each is re-paged first); the rest are never
  acknowledged and go on being re-paged and passed down the chain (primary, backup, supervisor, every
  `--ack-timeout` seconds).
- Every `--kill-every` seconds a random web or clock process is killed with SIGKILL (a web process:
  arbiter and workers at once, the group) and started again at once.

Then, with every process running again, the supervisor ACKs every case still being paged (so the chain
stops), the queue is let drain (`--drain` at most), the processes are stopped, and the database and the
Twilio fake are compared:
- every red-flag answer that was answered opened one case, and a page for it reached the fake; none twice;
- no conversation advanced twice by one text: each conversation's state in the database is exactly the
  flow's (service.engine.step) after the texts the driver had answered, each taken once; one inbound row
  per text; one conversation per number;
- every check-in due during the run went out exactly once (one row, one message at the fake);
- every acknowledged case stopped re-paging: no page committed after the nurse's ACK (row order: a turn's
  time is read before it waits for its locks, so times cannot say which of two came first);
- every text Twilio got is one the database says it sent, once (what Twilio got twice is counted by kind);
- the count of 5xx answers, of failed attempts and of retries, and of webhooks given up.
A table of figures is printed; the process exits 1 if anything was lost or went twice.
"""

from __future__ import annotations

import argparse
import http.client
import inspect
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from bench.checkins import spawn as spawn_clock  # noqa: E402
from bench.checkins import wait_started, zone_at  # noqa: E402
from bench.load import (  # noqa: E402
    AUTH_TOKEN,
    BENIGN,
    CLINIC_NUMBER,
    DATA_KEY,
    PATH,
    RED_FLAG,
    Fake,
    Server,
    free_port,
    percentile,
    scratch_database,
    start_fake,
    start_server,
    stop_server,
)
from service.db import make_engine  # noqa: E402
from service.engine.flow import Level  # noqa: E402
from service.engine.state import DONE, State  # noqa: E402
from service.engine.step import step  # noqa: E402
from service.flowstore import FlowStore  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Checkin, Conversation, Escalation, Message, Patient  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.statuses import CheckinStatus, MessageStatus  # noqa: E402

PUBLIC_BASE_URL = "https://soak.example.org"  # the platform's address: what Twilio signs, whichever process answers
NURSES = ("+12125550201", "+12125550202", "+12125550203")  # primary, backup, supervisor: on call all week
PAGE_CASE = re.compile(r"URGENT case (\d+) \(")
ANSWER_TIMEOUT = 15.0  # Twilio waits this long for a webhook's answer
WAITING = (MessageStatus.queued, MessageStatus.sending, MessageStatus.retry)  # an outbound text not yet out


def roster_text(ack_timeout: int) -> str:
    return f"""# bench/soak.py: three nurses on call around the clock; every page re-paged or passed on quickly
timezone: UTC
ack_timeout: {ack_timeout}s
ack_timeout_emergency: {ack_timeout}s
repages: 1
nurses:
  - {{name: Nurse Primary, phone: "{NURSES[0]}"}}
  - {{name: Nurse Backup, phone: "{NURSES[1]}"}}
  - {{name: Nurse Supervisor, phone: "{NURSES[2]}"}}
shifts:
  - {{nurse: Nurse Primary, role: primary, days: daily, hours: "00:00-24:00"}}
  - {{nurse: Nurse Backup, role: backup, days: daily, hours: "00:00-24:00"}}
chain: [primary, backup, supervisor]
supervisor: Nurse Supervisor
"""


@dataclass
class Options:
    duration: float = 600.0  # seconds of texting and killing
    kill_every: float = 20.0  # seconds between SIGKILLs (each restart is waited for)
    texters: int = 50  # simulated patients at once
    red_flag_share: float = 0.1  # conversations on the red-flag path
    think: float = 3.0  # mean seconds before each answer
    webs: int = 2  # web processes (gunicorn)
    clocks: int = 2  # clock processes
    workers: int = 2  # WEB_CONCURRENCY of each web process
    threads: int = 4  # WEB_THREADS
    ack_share: float = 0.7  # cases a nurse acknowledges by SMS
    ack_timeout: int = 20  # the roster's ack timeout (s): re-page, then the next nurse, this often
    checkin_rate: float = 0.5  # check-ins falling due a second
    retries: int = 7  # Twilio's retries of a failed webhook
    drain: float = 120.0  # seconds at most for the queue to empty after the run
    seed: int = 22  # the random choices (conversations, pauses, victims, ACKs)


def seed(url: str, count: int, rate: float) -> list[int]:
    """Migrate (the release phase), then `count` check-ins falling due `rate` a second from 15 s on (about
    when the processes are up), each for its own patient after a finished home-care triage, in the
    patient's early afternoon; as the webhooks would have left them. Returns the check-ins' ids."""
    engine = make_engine(url, Settings(data_key=DATA_KEY).keyring())
    upgrade(engine)
    flows = FlowStore(ROOT / "flows")
    loaded = flows.current()
    now = datetime.now(UTC)
    done = State(status=DONE, outcome="out_home_care", level=Level.home_care, privacy_notice_sent=True).to_json()
    checkins = []
    with Session(engine) as session, session.begin():
        flows.remember(session, loaded, now)
        for i in range(count):
            patient = Patient(phone=f"+1212{2000000 + i:07d}", language="en", privacy_notice_sent=True,
                              timezone=zone_at(13, now), created_at=now)
            session.add(patient)
            session.flush()
            conversation = Conversation(patient_id=patient.id, flow_id=loaded.flow.id, flow_version=loaded.version,
                                        channel="sms", state=done, status=DONE, outcome="out_home_care",
                                        level="home_care", disposition="self_care", silence_stage=0, version=1,
                                        started_at=now - timedelta(days=1), updated_at=now - timedelta(days=1))
            session.add(conversation)
            session.flush()
            checkins.append(Checkin(patient_id=patient.id, conversation_id=conversation.id, ask="ci_how_are_you",
                                    due_at=now + timedelta(seconds=15 + i / max(rate, 0.01)),
                                    status=CheckinStatus.pending, attempts=0, created_at=now - timedelta(days=1)))
            session.add(checkins[-1])
        session.flush()
        ids = [checkin.id for checkin in checkins]
    engine.dispose()
    return ids


# --------------------------------------------------------------------------
# The processes, and the fault: SIGKILL and a restart
# --------------------------------------------------------------------------


@dataclass
class Kill:
    at: float  # seconds into the run
    victim: str
    restart_s: float  # from the kill to answering /healthz (web) or "clock running" (clock)


class Fleet:
    """The web and clock processes of one deployment, restartable by name (web0, web1, clock0, ...)."""

    def __init__(self, options: Options, folder: Path, env: dict[str, str]):
        self.folder, self.env, self.options = folder, env, options
        self.ports = [free_port() for _ in range(options.webs)]
        self.webs: dict[str, Server] = {}
        self.clocks: dict[str, subprocess.Popen[bytes]] = {}
        self.starts: Counter[str] = Counter()
        self.kills: list[Kill] = []
        self.failures: list[str] = []

    @property
    def names(self) -> list[str]:
        return [f"web{i}" for i in range(self.options.webs)] + [f"clock{i}" for i in range(self.options.clocks)]

    def start(self, name: str) -> None:
        self.starts[name] += 1
        label = f"{name}.{self.starts[name]}"  # each start its own log
        if name.startswith("web"):
            port = self.ports[int(name[3:])]
            env = {**self.env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(self.options.workers),
                   "WEB_THREADS": str(self.options.threads), "SPOOL_DIR": str(self.folder / f"spool-{name}")}
            self.webs[name] = start_server(label, "service:create_app()", env, self.folder)
            return
        process, stdout, spawned = spawn_clock(self.env, self.folder / label)
        if wait_started(process, stdout, spawned) is None:
            process.kill()
            raise RuntimeError(f"{name} did not start; see {self.folder / label}")
        self.clocks[name] = process

    def kill(self, name: str) -> None:
        """SIGKILL: no handler runs, nothing is flushed or finished. A web process dies whole (its group)."""
        if name not in self.webs and name not in self.clocks:
            return  # down already (a restart that failed)
        if name in self.webs:
            process = self.webs.pop(name).process
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            process = self.clocks.pop(name)
            process.kill()
        process.wait(timeout=10)

    def start_all(self) -> None:
        """Every process at once (each start waits for its process to be up)."""
        failed: list[BaseException] = []

        def start(name: str) -> None:
            try:
                self.start(name)
            except BaseException as error:  # noqa: BLE001 - raised below, in the caller's thread
                failed.append(error)

        threads = [threading.Thread(target=start, args=(name,)) for name in self.names
                   if name not in self.webs and name not in self.clocks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]

    def stop(self) -> None:
        """SIGTERM to everything, as a platform stop does: clocks first (no new work), then the webs."""
        for process in self.clocks.values():
            process.send_signal(signal.SIGTERM)
        for process in self.clocks.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        stopping = [threading.Thread(target=stop_server, args=(server,)) for server in self.webs.values()]
        for thread in stopping:
            thread.start()
        for thread in stopping:
            thread.join()
        self.clocks.clear()
        self.webs.clear()


def chaos(fleet: Fleet, began: float, end: float, stop: threading.Event, rng: random.Random) -> None:
    """Every kill_every seconds a random process is killed and started again at once."""
    every = fleet.options.kill_every
    at = began + every
    while not stop.wait(max(0.0, at - time.monotonic())) and at + every / 2 < end:
        victim = rng.choice(fleet.names)
        fleet.kill(victim)
        killed = time.monotonic()
        try:
            fleet.start(victim)
        except RuntimeError as failed:  # the run goes on without it; the report says so
            fleet.failures.append(f"{victim} did not come back: {failed}")
        fleet.kills.append(Kill(killed - began, victim, time.monotonic() - killed))
        at += every


# --------------------------------------------------------------------------
# Twilio's side: webhooks to a random web process, retried as Twilio retries them
# --------------------------------------------------------------------------


@dataclass
class Delivery:
    ok: bool  # a 200 with TwiML, at some attempt
    reply: str
    answered_at: float  # monotonic, when the answer that counted came (or the last attempt failed)


@dataclass
class Tally:
    webhooks: int = 0
    attempts: int = 0
    retries: int = 0
    gave_up: int = 0
    statuses: Counter[int] = field(default_factory=Counter)  # per attempt: 0 = no connection or no answer in time
    lock: threading.Lock = field(default_factory=threading.Lock)


class Twilio:
    def __init__(self, ports: list[int], retries: int, seed: int):
        self.ports, self.retries = ports, retries
        self.validator = RequestValidator(AUTH_TOKEN)
        self.tally = Tally()
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()

    def sms(self, frm: str, body: str) -> Delivery:
        params = {"ToCountry": "US", "From": frm, "To": CLINIC_NUMBER, "Body": body, "NumMedia": "0",
                  "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1",
                   "X-Twilio-Signature": self.validator.compute_signature(PUBLIC_BASE_URL + PATH, params),
                   "I-Twilio-Idempotency-Token": str(uuid.uuid4())}  # the same on every retry, as Twilio's
        payload = urlencode(params)
        with self.tally.lock:
            self.tally.webhooks += 1
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 4.0))
            status, reply = self._post(payload, headers)
            with self.tally.lock:
                self.tally.attempts += 1
                self.tally.retries += attempt > 0
                self.tally.statuses[status] += 1
            if status == 200 and "<Response>" in reply:
                return Delivery(True, reply, time.monotonic())
        with self.tally.lock:
            self.tally.gave_up += 1
        return Delivery(False, "", time.monotonic())

    def _post(self, payload: str, headers: dict[str, str]) -> tuple[int, str]:
        with self._rng_lock:
            port = self._rng.choice(self.ports)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=ANSWER_TIMEOUT)
        try:
            connection.request("POST", PATH, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            return 0, ""
        finally:
            connection.close()


@dataclass
class Played:
    """One conversation as the driver saw it: the texts answered (each counts once), in order."""

    phone: str
    red_flag: bool
    texts: list[str] = field(default_factory=list)
    unknown: bool = False  # a webhook given up on: whether it was taken is unknown, so no replay check
    red_flag_answered: float | None = None  # monotonic


def texter(index: int, twilio: Twilio, options: Options, end: float, played: list[Played]) -> None:
    rng = random.Random(options.seed * 1000 + index)
    conversation = 0
    while time.monotonic() < end and conversation < 9999:
        conversation += 1
        red = rng.random() < options.red_flag_share
        record = Played(f"+1312{200 + index:03d}{conversation:04d}", red)  # a new patient every conversation
        played.append(record)
        for body in RED_FLAG if red else BENIGN:
            time.sleep(min(rng.expovariate(1 / options.think) if options.think else 0.0,
                           max(0.0, end - time.monotonic())))
            if time.monotonic() >= end:
                return
            delivery = twilio.sms(record.phone, body)
            if not delivery.ok:
                record.unknown = True
                break
            record.texts.append(body)
            if red and len(record.texts) == len(RED_FLAG):
                record.red_flag_answered = delivery.answered_at


@dataclass
class Acked:
    case_id: int
    nurse: str
    answered_at: float
    reply: str


def nurses(fake: Fake, twilio: Twilio, options: Options, end: float, acked: list[Acked],
           first_page: dict[int, float]) -> None:
    """Watch the pages reaching the fake; for ack_share of the cases, ACK 2-3 ack timeouts after the first."""
    rng = random.Random(options.seed)
    seen, due, workers = 0, [], []
    while time.monotonic() < end:
        messages = fake.messages[:]
        for arrived, to, body in messages[seen:]:
            match = PAGE_CASE.search(body)
            if to in NURSES and match and int(match.group(1)) not in first_page:
                case_id = int(match.group(1))
                first_page[case_id] = arrived
                if rng.random() < options.ack_share:
                    due.append((arrived + rng.uniform(2, 3) * options.ack_timeout, case_id, to))
        seen = len(messages)
        now = time.monotonic()
        for item in [d for d in due if d[0] <= now]:
            due.remove(item)
            _, case_id, phone = item

            def ack(case_id: int = case_id, phone: str = phone) -> None:
                delivery = twilio.sms(phone, f"ACK {case_id}")
                if delivery.ok:
                    acked.append(Acked(case_id, phone, delivery.answered_at, delivery.reply))

            workers.append(threading.Thread(target=ack, daemon=True))
            workers[-1].start()
        time.sleep(0.2)
    for worker in workers:
        worker.join(timeout=60)


# --------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------




@dataclass
class Run:
    twilio: Twilio
    played: list[Played]
    acked: list[Acked]
    first_page: dict[int, float]  # case -> when its first page reached the fake (monotonic)
    ended_utc: datetime
    swept: list[Acked] = field(default_factory=list)  # the ACKs at the end of the shift, after the run


@dataclass
class Report:
    figures: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # what the run exercised, for tests/process/test_soak.py

    def add(self, name: str, value: object) -> None:
        self.figures.append((name, str(value)))

    def table(self) -> str:
        width = max(len(name) for name, _ in self.figures)
        lines = [f"{name:<{width}}  {value}" for name, value in self.figures]
        verdict = ["nothing lost, nothing twice"] if not self.problems else [
            f"{len(self.problems)} problems:", *[f"  - {p}" for p in self.problems[:40]]]
        return "\n".join([*lines, "", *verdict])


def soak(options: Options, say: Any = print) -> Report:
    """Start everything, drive it with faults for options.duration, drain, stop, compare; the figures."""
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    fake = start_fake()
    url, database, drop = scratch_database(folder)
    fleet: Fleet | None = None
    try:
        due = max(int(options.duration * options.checkin_rate), 1)
        checkins = seed(url, due, options.checkin_rate)
        roster = folder / "roster.yaml"
        roster.write_text(roster_text(options.ack_timeout))
        env = {**os.environ, "DATABASE_URL": url, "AUTO_MIGRATE": "0", "RUN_CLOCK": "0",
               "TRIAGE_DISPATCH": "background", "TRIAGE_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": CLINIC_NUMBER,
               "TWILIO_API_BASE_URL": fake.base_url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "ROSTER_FILE": str(roster),
               "CLINIC_NAME": "Soak Clinic", "CLINIC_PHONE": CLINIC_NUMBER, "SECRET_KEY": uuid.uuid4().hex,
               "DATA_KEY": DATA_KEY, "NO_PROXY": "127.0.0.1,localhost", "PYTHONUNBUFFERED": "1",
               "LOG_LEVEL": os.environ.get("LOG_LEVEL", "info")}
        env.pop("DATA_KEY_OLD", None)
        fleet = Fleet(options, folder, env)
        say(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average before {load_before}")
        say(f"database: {database}; {options.webs} web processes (gunicorn, {options.workers} workers x "
            f"{options.threads} threads) and {options.clocks} clocks; {options.texters} texters, red-flag share "
            f"{options.red_flag_share:g}, think {options.think:g} s; {due} check-ins falling due; a SIGKILL every "
            f"{options.kill_every:g} s for {options.duration:g} s; logs in {folder}")
        fleet.start_all()
        up = time.monotonic()
        run = drive(fleet, fake, options)
        run.swept = end_of_shift(url, run.twilio)
        stopped = time.monotonic()
        left = drain(url, options)
        drained = time.monotonic()
        fleet.stop()
        time.sleep(1.0)  # the fake's last messages reach its reader
        report = Report()
        report.add("database", database)
        report.add("processes", f"{options.webs} web (gunicorn, {options.workers} workers each), "
                                f"{options.clocks} clock; {options.texters} texters for {options.duration:g} s")
        report.add("load average before (1, 5, 15 min)", load_before)
        report.add("timing: start-up; driven; drained (queue empty)",
                   f"{up - began:.0f} s; {stopped - up:.0f} s; {drained - stopped:.0f} s")
        describe_kills(report, fleet.kills)
        verify(report, run, url, fake, checkins, options)
        report.problems += fleet.failures
        if left:
            report.problems.append(f"{options.drain:g} s after the run still waiting: {left}")
    finally:
        if fleet is not None:
            fleet.stop()
        fake.close()
        drop()
    report.add("Twilio fake: spec violations, rejected", f"{len(fake.violations)}, {fake.rejected}")
    if fake.violations:
        report.problems.append(f"the fake saw requests Twilio's spec forbids: {fake.violations[:3]}")
    report.add("load average after (1, 5, 15 min)", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return report


def drive(fleet: Fleet, fake: Fake, options: Options) -> Run:
    twilio = Twilio(fleet.ports, options.retries, options.seed)
    began = time.monotonic()
    end = began + options.duration
    run = Run(twilio, [], [], {}, datetime.now(UTC))
    stop = threading.Event()
    threads = [threading.Thread(target=texter, args=(i, twilio, options, end, run.played), daemon=True)
               for i in range(options.texters)]
    threads.append(threading.Thread(target=nurses, args=(fake, twilio, options, end, run.acked, run.first_page),
                                    daemon=True))
    monkey = threading.Thread(target=chaos, args=(fleet, began, end, stop, random.Random(options.seed)), daemon=True)
    for thread in [*threads, monkey]:
        thread.start()
    for thread in threads:
        thread.join(timeout=options.duration + 180)
    stop.set()
    monkey.join(timeout=120)
    fleet.start_all()  # any the monkey could not bring back
    run.ended_utc = datetime.now(UTC)
    return run


def end_of_shift(url: str, twilio: Twilio) -> list[Acked]:
    """The supervisor takes every case still being paged, so that the chain stops and the queue can drain
    (the pages that went before count as ever; those after the ACK must be none)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            paging = connection.scalars(select(Escalation.id).where(Escalation.next_action_at.is_not(None))).all()
    finally:
        engine.dispose()
    swept = []
    for case_id in paging:
        delivery = twilio.sms(NURSES[2], f"ACK {case_id}")
        if delivery.ok:
            swept.append(Acked(case_id, NURSES[2], delivery.answered_at, delivery.reply))
    return swept


def drain(url: str, options: Options) -> str:
    """Until nothing waits to go: no text queued or in a send, no due check-in, no case's next step due in
    the next 2 s (un-acknowledged cases go on down the chain; the clocks stop next, so no step is then half
    taken). Returns what still waited at the deadline ("" when nothing did)."""
    engine = make_engine(url)
    deadline = time.monotonic() + options.drain
    try:
        while True:
            now = datetime.now(UTC)
            with engine.connect() as connection:
                waiting = connection.scalar(select(func.count()).select_from(Message).where(
                    Message.direction == "out", Message.status.in_(WAITING)))
                checkins = connection.scalar(select(func.count()).select_from(Checkin).where(
                    Checkin.status == CheckinStatus.pending, Checkin.due_at <= now))
                steps = connection.scalar(select(func.count()).select_from(Escalation).where(
                    Escalation.next_action_at <= now + timedelta(seconds=2)))
            if not waiting and not checkins and not steps:
                return ""
            if time.monotonic() > deadline:
                return f"{waiting} texts to send, {checkins} check-ins due, {steps} case steps due"
            time.sleep(1.0)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------
# Afterwards: the database and the Twilio fake
# --------------------------------------------------------------------------


def describe_kills(report: Report, kills: list[Kill]) -> None:
    kinds = Counter(kill.victim.rstrip("0123456789") for kill in kills)
    report.counts.update(kills=len(kills), web_kills=kinds["web"], clock_kills=kinds["clock"])
    restarts = [kill.restart_s for kill in kills]
    report.add("SIGKILLs (web, clock)", f"{len(kills)} ({kinds['web']}, {kinds['clock']})"
               + (f"; back up in p50 {percentile(restarts, .5):.1f} s, max {max(restarts):.1f} s" if kills else ""))


def verify(report: Report, run: Run, url: str, fake: Fake, checkins: list[int], options: Options) -> None:
    engine = make_engine(url, Settings(data_key=DATA_KEY).keyring())  # sealed content, read as the service wrote it
    try:
        with engine.connect() as connection:
            rows = {name: connection.execute(query).all() for name, query in {
                "patients": select(Patient.phone, Patient.id),
                "conversations": select(Conversation.patient_id, Conversation.state),
                "inbound": select(Message.patient_id, Message.twilio_sid).where(Message.direction == "in"),
                "cases": select(Escalation.id, Escalation.patient_id, Escalation.acknowledged_at,
                                Escalation.pages_sent),
                "pages": select(Message.escalation_id, Message.id).where(Message.kind == "page"),
                # A nurse's ACK as stored (its row, in the ACK's transaction): the ids give the order in which
                # the ACK and a page were committed. (Their times cannot: a turn reads the clock before it waits
                # for its locks, so a page committed just before an ACK may carry the later time.)
                "acks": select(Message.escalation_id, func.min(Message.id)).where(
                    Message.kind == "nurse_command", Message.key == "ACK", Message.escalation_id.is_not(None))
                .group_by(Message.escalation_id),
                "outbound": select(Message.kind, Message.to_phone, Message.body, Message.status, Message.attempts)
                .where(Message.direction == "out", Message.channel != "voice"),
                "checkins": select(Checkin.id, Checkin.status, Checkin.due_at, Checkin.sent_at, Patient.phone)
                .join(Patient, Patient.id == Checkin.patient_id).where(Checkin.id.in_(checkins)),
                "checkin_texts": select(Message.checkin_id).where(Message.kind == "checkin",
                                                                  Message.checkin_id.in_(checkins)),
            }.items()}
    finally:
        engine.dispose()
    webhooks(report, run.twilio.tally, options)
    conversations(report, run, rows)
    red_flags(report, run, rows, fake)
    acknowledgements(report, run, rows)
    checkins_once(report, run, rows, fake)
    sent_once(report, rows, fake)


def webhooks(report: Report, tally: Tally, options: Options) -> None:
    fives = sum(n for status, n in tally.statuses.items() if status >= 500)
    others = sum(n for status, n in tally.statuses.items() if status not in (0, 200) and status < 500)
    report.counts.update(webhooks=tally.webhooks, retries=tally.retries)
    report.add("webhooks (patients' texts, nurses' ACKs)", tally.webhooks)
    report.add("attempts; retries (same MessageSid)", f"{tally.attempts}; {tally.retries}")
    report.add("failed attempts: 5xx / no answer / other", f"{fives} / {tally.statuses[0]} / {others}")
    report.add(f"webhooks given up after {options.retries} retries", tally.gave_up)
    if fives:
        report.problems.append(f"{fives} answers were 5xx (Twilio would play the patient nothing)")
    if tally.gave_up:
        report.problems.append(f"{tally.gave_up} webhooks failed every attempt: those texts never got in")


_replayed: dict[tuple[str, ...], State] = {}


def replay(flow: Any, texts: tuple[str, ...]) -> State:
    """The conversation's state after these texts, each taken once: the engine, no database."""
    if texts not in _replayed:
        state = replay(flow, texts[:-1]) if len(texts) > 1 else State()
        _replayed[texts] = step(flow, state, texts[-1]).state if texts else state
    return _replayed[texts]


def conversations(report: Report, run: Run, rows: dict[str, list[Any]]) -> None:
    flow = FlowStore(ROOT / "flows").current().flow
    patients = dict(rows["patients"])
    states: dict[int, list[dict[str, Any]]] = {}
    for patient_id, state in rows["conversations"]:
        states.setdefault(patient_id, []).append(state)
    inbound = Counter(patient_id for patient_id, _ in rows["inbound"])
    sids = Counter(sid for _, sid in rows["inbound"] if sid)
    twice = [sid for sid, n in sids.items() if n > 1]
    checked, wrong = 0, []
    for played in run.played:
        if played.unknown or not played.texts:
            continue
        patient_id = patients.get(played.phone)
        found = states.get(patient_id, []) if patient_id else []
        want = replay(flow, tuple(played.texts))
        checked += 1
        if len(found) != 1 or inbound[patient_id] != len(played.texts):
            wrong.append(f"{played.phone}: {len(played.texts)} texts answered, {inbound[patient_id]} stored, "
                         f"{len(found)} conversations")
            continue
        got = found[0]
        if (got.get("node"), got.get("status"), got.get("outcome"), got.get("answers")) != (
                want.node, want.status, want.outcome, want.answers):
            wrong.append(f"{played.phone}: after {len(played.texts)} texts at {got.get('node')} with "
                         f"{len(got.get('answers') or {})} answers; once each gives {want.node} with "
                         f"{len(want.answers)}")
    done = Counter("red flag" if p.red_flag else "benign" for p in run.played
                   if len(p.texts) == len(RED_FLAG if p.red_flag else BENIGN))
    report.add("conversations played (finished: benign + red flag)",
               f"{len(run.played)} ({done['benign']} + {done['red flag']})")
    report.counts.update(conversations_checked=checked)
    report.add("conversations whose state is the flow's, each text once", f"{checked - len(wrong)}/{checked}")
    report.add("inbound texts stored twice (same MessageSid)", len(twice))
    report.problems += [f"conversation advanced wrongly: {w}" for w in wrong[:10]]
    if twice:
        report.problems.append(f"{len(twice)} MessageSids stored twice")


def fake_pages(fake: Fake) -> dict[int, list[float]]:
    """Case -> when each of its pages reached the fake."""
    found: dict[int, list[float]] = {}
    for arrived, to, body in fake.messages:
        match = PAGE_CASE.search(body)
        if to in NURSES and match:
            found.setdefault(int(match.group(1)), []).append(arrived)
    return found


def red_flags(report: Report, run: Run, rows: dict[str, list[Any]], fake: Fake) -> None:
    patients = dict(rows["patients"])
    cases: dict[int, list[int]] = {}
    for case_id, patient_id, *_ in rows["cases"]:
        cases.setdefault(patient_id, []).append(case_id)
    pages = fake_pages(fake)
    answered = [p for p in run.played if p.red_flag_answered is not None]
    unpaged, opened_twice, delays = [], [], []
    for played in answered:
        opened = cases.get(patients.get(played.phone, -1), [])
        if len(opened) != 1:
            opened_twice.append(f"{played.phone}: {len(opened)} cases")
            continue
        arrivals = pages.get(opened[0])
        if not arrivals:
            unpaged.append(f"case {opened[0]} ({played.phone})")
            continue
        delays.append(min(arrivals) - played.red_flag_answered)  # type: ignore[operator]
    report.counts.update(red_flags=len(answered), paged=len(delays))
    report.add("red flags answered; cases opened (all)", f"{len(answered)}; {len(rows['cases'])}")
    report.add("red flags paged (a page reached Twilio)", f"{len(answered) - len(unpaged) - len(opened_twice)}"
               f"/{len(answered)}")
    if delays:
        report.add("first page after the red flag's answer", f"p50 {percentile(delays, .5):.2f} s, "
                   f"p99 {percentile(delays, .99):.2f} s, max {max(delays):.2f} s")
    report.problems += [f"red flag never paged: {u}" for u in unpaged[:10]]
    report.problems += [f"red flag not one case: {t}" for t in opened_twice[:10]]


def acknowledgements(report: Report, run: Run, rows: dict[str, list[Any]]) -> None:
    cases = {case_id: (acked_at, pages_sent) for case_id, _, acked_at, pages_sent in rows["cases"]}
    ack_rows = dict(rows["acks"])
    queued_after = Counter(case_id for case_id, page_id in rows["pages"]
                           if case_id in ack_rows and page_id > ack_rows[case_id])
    def took(ack: Acked) -> bool:
        return "is yours" in ack.reply or "already have" in ack.reply

    taken = [a for a in run.acked if took(a)]
    not_recorded = [a.case_id for a in [*taken, *run.swept]
                    if took(a) and cases.get(a.case_id, (None, 0))[0] is None]
    acked_ids = {a.case_id for a in taken}
    unacked = [pages for case_id, (_, pages) in cases.items() if case_id not in acked_ids]
    report.counts.update(acknowledged=len(taken), repaged=sum(pages > 1 for _, pages in cases.values()))
    report.add("cases acknowledged by SMS (ACK answered)", f"{len(taken)} of {len(run.acked)} ACKs sent; "
               f"{sum(map(took, run.swept))} still paging taken at the end")
    report.add("pages committed after a case's ACK", sum(queued_after.values()))
    report.add("cases not acknowledged in the run: pages per case",
               f"{len(unacked)} cases, p50 {percentile(unacked, .5):.0f}, max {max(unacked, default=0)}"
               if unacked else "none")
    if queued_after:
        report.problems.append(f"acknowledged cases paged again: {dict(queued_after)}")
    if not_recorded:
        report.problems.append(f"ACK answered but not recorded for cases {not_recorded}")


def checkins_once(report: Report, run: Run, rows: dict[str, list[Any]], fake: Fake) -> None:
    per_checkin = Counter(checkin_id for (checkin_id,) in rows["checkin_texts"])
    at_fake = Counter(to for _, to, _ in fake.messages)
    due = [r for r in rows["checkins"] if _utc(r.due_at) <= run.ended_utc]  # type: ignore[operator]
    missing = [r.id for r in due if r.status != CheckinStatus.sent or at_fake[r.phone] == 0]
    queued_twice = [r.id for r in rows["checkins"] if per_checkin[r.id] > 1]
    at_twilio_twice = [r.id for r in rows["checkins"] if at_fake[r.phone] > 1]  # also a problem of sent_once's
    late = [(_utc(r.sent_at) - _utc(r.due_at)).total_seconds() for r in due if r.sent_at]  # type: ignore[operator]
    report.counts.update(checkins_due=len(due), checkins_out=len(due) - len(missing))
    report.add("check-ins due in the run: out once / not out / twice",
               f"{len(due) - len(missing)} / {len(missing)} / {len(set(queued_twice + at_twilio_twice))}")
    if late:
        report.add("check-in queued after due", f"p50 {percentile(late, .5):.1f} s, max {max(late):.1f} s")
    if missing:
        report.problems.append(f"{len(missing)} due check-ins never reached Twilio: {missing[:10]}")
    if queued_twice:
        report.problems.append(f"{len(queued_twice)} check-ins queued twice: {queued_twice[:10]}")


def sent_once(report: Report, rows: dict[str, list[Any]], fake: Fake) -> None:
    """What Twilio got against what the database says it sent: each text once."""
    sent = Counter((to, body) for kind, to, body, status, _ in rows["outbound"] if status == MessageStatus.sent)
    kind_of = {(to, body): kind for kind, to, body, *_ in rows["outbound"]}
    again = Counter(kind for kind, *_, attempts in rows["outbound"] if attempts > 1)
    got = Counter((to, body or "") for _, to, body in fake.messages)
    extra, missing = got - sent, sent - got
    twice = Counter(kind_of.get(key, "unknown") for key in extra.elements())
    left = Counter(status for *_, status, _ in rows["outbound"] if status in WAITING)
    failed = Counter(kind for kind, *_, status, _ in rows["outbound"] if status == MessageStatus.failed)
    report.add("texts Twilio got; sent rows in the database", f"{sum(got.values())}; {sum(sent.values())}")
    report.add("texts claimed more than once (a send cut by a kill)",
               ", ".join(f"{k}: {n}" for k, n in again.items()) or "none")
    report.add("texts Twilio got twice (by kind)", ", ".join(f"{k}: {n}" for k, n in twice.items()) or "none")
    report.add("texts left in the queue at the end", ", ".join(f"{k}: {n}" for k, n in left.items()) or "none")
    if twice:
        report.problems.append(f"Twilio got texts twice: {dict(twice)}"
                               + (f" (pages: {twice['page']})" if twice["page"] else ""))
    if missing:
        report.problems.append(f"{sum(missing.values())} rows marked sent never reached Twilio")
    report.add("texts failed for good", ", ".join(f"{k}: {n}" for k, n in failed.items()) or "none")
    if left:
        report.problems.append(f"texts still waiting to go: {dict(left)}")
    if failed:
        report.problems.append(f"texts that failed for good: {dict(failed)}")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def main() -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    notes = {line.split(":")[0].strip(): line.split("#", 1)[1].strip()
             for line in inspect.getsource(Options).splitlines() if "#" in line and ":" in line}
    for name, value in vars(defaults).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value,
                            help=f"{notes.get(name, '')} (default {value:g})")
    options = Options(**vars(parser.parse_args()))
    report = soak(options)
    print()
    print(report.table())
    sys.exit(1 if report.problems else 0)


if __name__ == "__main__":
    main()
