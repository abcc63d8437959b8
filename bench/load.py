"""Load benchmark for the SMS webhook: the service against a bare Flask app. A script, not a test.

    python bench/load.py                                   # scratch SQLite file, 50 texters, 30 s each
    DATABASE_URL=postgresql://... python bench/load.py     # a scratch schema in that Postgres database
    python bench/load.py --texters 50 --duration 30 --workers 2 --threads 8

What it does:
1. Starts the Twilio fake (tests/twilio_fake.py: validates every REST call against Twilio's OpenAPI
   spec) in a process of its own, as real Twilio is another machine; it stamps each message it
   accepts with the system's monotonic clock, which this process shares.
2. Makes a fresh database (a temp SQLite file, or a new schema in DATABASE_URL's Postgres) and
   migrates it, as the Procfile's release phase does, and writes a roster whose first nurse is always
   on call (so the result does not depend on the hour of the run).
3. For each of the service and bench/bare_app.py (a bare Flask app answering every webhook with a
   fixed TwiML reply): starts `gunicorn -c gunicorn.conf.py` on a free 127.0.0.1 port with the same
   WEB_CONCURRENCY / WEB_THREADS, waits for /healthz, then drives it with `--texters` simulated
   patients for `--warmup` + `--duration` seconds and stops it (SIGTERM to its process group).
4. Each texter is a thread with one keep-alive HTTP/1.1 connection (http.client: the lightest
   client in the standard library, so the load generator, which shares the two cores with the
   servers, takes as little CPU as it can). It plays whole conversations, one after another, each
   from a new phone number: the benign path ("hi" and twelve "no": home-care advice) or, for
   `--red-flag-share` of them, the red-flag path ("hi", "no", "yes": ED now, the on-call nurse is
   paged). Every POST is signed like Twilio's (X-Twilio-Signature over PUBLIC_BASE_URL + path and
   the form) and the next text goes as soon as the reply is in: a closed loop of texters who answer
   instantly. The bare app gets exactly the same requests.
5. Prints, per server: requests/s, latency p50/p90/p99/max, non-200 answers and transport errors,
   the servers' CPU per request; then the throughput ratio; then, for the service, how long a page
   took from sending the red-flag answer to the page reaching the Twilio fake, and a check in the
   database that the conversations really finished (home care / ED now, one page per red flag).

Pages are matched to red-flag answers by the patient's number: each conversation has its own
number and the page quotes it ("Patient +1 312-201-0007 (text)"), so the digits in the page find
the time the red-flag answer was sent. Only red-flag answers sent after the warm-up count.

Latency is client-side: from just before the request is written to when the whole reply is read,
so it includes the load generator's own queueing (its threads share one interpreter and two cores
with the servers). The figures are for this machine as it was during the run (the load average is
printed): read the ratio as the main result.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import os
import platform
import queue
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from service.db import make_engine  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Conversation, Escalation, Message  # noqa: E402

AUTH_TOKEN = "bench-auth-token"  # webhooks are signed with it; the fake checks REST calls with it too
CLINIC_NUMBER = "+12125550100"
NURSE = "+12125550101"
BENIGN = ["hi", *["no"] * 12]  # every screening question answered "no": home-care advice
RED_FLAG = ["hi", "no", "yes"]  # "yes" to the bladder/bowel question: ED now, the on-call nurse is paged
PATH = "/twilio/sms"
PAGE_PATIENT = re.compile(r"Patient (\+[\d ()-]+\d)")
TICKS = os.sysconf("SC_CLK_TCK")
ROSTER = f"""# bench/load.py: one nurse, always on call (a roster with only nurses: the first is on call)
nurses:
  - name: Nurse Bench
    phone: "{NURSE}"
"""


# --------------------------------------------------------------------------
# The Twilio fake, in a process of its own
# --------------------------------------------------------------------------


def run_fake(out: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    """Child process: serve the fake; report each accepted message with its arrival time."""
    sys.path.insert(0, str(ROOT))
    from tests.twilio_fake import TwilioFake, new_sid

    with TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN) as fake:
        out.put(("ready", fake.base_url, fake.account_sid))
        seen = 0
        while not stop.is_set():
            try:
                fake.wait_for(lambda: len(fake.messages) > seen, timeout=0.2)
            except TimeoutError:
                continue
            arrived = time.monotonic()  # woken by the fake's notify as the message is recorded
            messages = fake.messages
            for message in messages[seen:]:
                out.put(("message", arrived, message["to"], message["body"] or ""))
            seen = len(messages)
        out.put(("done", fake.violations, len(fake.rejected)))


@dataclass
class Fake:
    base_url: str
    account_sid: str
    process: mp.Process
    stop: Any  # an mp.Event (a factory function, not a type)
    out: mp.Queue  # type: ignore[type-arg]
    messages: list[tuple[float, str, str]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    rejected: int = 0
    _reader: threading.Thread | None = None

    def read(self) -> None:
        while True:
            item = self.out.get()
            if item[0] == "message":
                self.messages.append(item[1:])
            elif item[0] == "done":
                self.violations, self.rejected = item[1], item[2]
                return

    def close(self) -> None:
        self.stop.set()
        if self._reader is not None:
            self._reader.join(timeout=10)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=5)


def start_fake() -> Fake:
    context = mp.get_context("spawn")
    out, stop = context.Queue(), context.Event()
    process = context.Process(target=run_fake, args=(out, stop), daemon=True)
    process.start()
    try:
        kind, base_url, account_sid = out.get(timeout=60)
    except queue.Empty:
        process.terminate()
        raise RuntimeError("the Twilio fake did not start in 60 s") from None
    fake = Fake(base_url, account_sid, process, stop, out)
    fake._reader = threading.Thread(target=fake.read, daemon=True)
    fake._reader.start()
    return fake



# --------------------------------------------------------------------------
# Database and servers
# --------------------------------------------------------------------------


def scratch_database(folder: Path) -> tuple[str, str, Callable[[], None]]:
    """(url, description, drop): a new SQLite file, or a new schema in DATABASE_URL's Postgres."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            version = connection.scalar(text("SHOW server_version"))

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()

        sep = "&" if "?" in url else "?"
        host = make_engine(url).url.host or "local socket"
        return f"{url}{sep}options=-csearch_path%3D{schema}", f"Postgres {version} at {host}, schema {schema}", drop
    path = folder / "bench.sqlite3"
    return f"sqlite:///{path}", f"SQLite (fresh file {path})", lambda: None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in children.split()]

    def cpu_seconds(self) -> float:
        """User + system CPU of the arbiter and its workers so far."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / TICKS


def start_server(name: str, app: str, env: dict[str, str], folder: Path) -> Server:
    port = int(env["PORT"])
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app], cwd=ROOT,
                                   env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(name, port, process, log)
    try:
        wait_until_ready(server)
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_until_ready(server: Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: gunicorn exited with {server.process.returncode}; see {server.log}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                connection.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: no answer on /healthz in {timeout} s; see {server.log}")


def stop_server(server: Server) -> None:
    """SIGTERM to the arbiter's process group (arbiter and workers), as a platform stop does."""
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=5)


# --------------------------------------------------------------------------
# The simulated texters
# --------------------------------------------------------------------------


@dataclass
class Sent:
    started: float
    finished: float
    status: int  # 0: the connection failed or timed out


@dataclass
class Texter:
    """One simulated patient after another on one keep-alive connection, until `end`."""

    index: int
    port: int
    signer: Callable[[dict[str, str]], str]
    red_flag_share: float
    end: float
    sent: list[Sent] = field(default_factory=list)
    red_flags: dict[str, float] = field(default_factory=dict)  # patient number -> when its red flag was sent
    finished: dict[str, int] = field(default_factory=lambda: {"benign": 0, "red_flag": 0})

    def phone(self, conversation: int) -> str:
        return f"+1312{200 + self.index:03d}{conversation:04d}"  # a new patient for every conversation

    def run(self) -> None:
        chooser = random.Random(self.index)  # the same mix of conversations for both servers
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conversation = 0
        try:
            while time.monotonic() < self.end and conversation < 9999:
                conversation += 1
                red_flag = chooser.random() < self.red_flag_share
                if self.converse(connection, self.phone(conversation), RED_FLAG if red_flag else BENIGN):
                    self.finished["red_flag" if red_flag else "benign"] += 1
        finally:
            connection.close()

    def converse(self, connection: http.client.HTTPConnection, phone: str, texts: list[str]) -> bool:
        for step, body in enumerate(texts):
            if time.monotonic() >= self.end:
                return False
            params = {"ToCountry": "US", "From": phone, "To": CLINIC_NUMBER, "Body": body, "NumMedia": "0",
                      "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32}
            headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": self.signer(params),
                       "User-Agent": "TwilioProxy/1.1"}
            payload = urlencode(params)
            started = time.monotonic()
            if texts is RED_FLAG and step == len(texts) - 1:
                self.red_flags[phone] = started
            try:
                connection.request("POST", PATH, body=payload, headers=headers)
                response = connection.getresponse()
                reply = response.read()
                status = response.status if b"<Response>" in reply else -response.status
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()  # http.client reconnects on the next request
            self.sent.append(Sent(started, time.monotonic(), status))
            if status != 200:
                return False
        return True


@dataclass
class Result:
    name: str
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    server_cpu: float
    client_cpu: float
    conversations: dict[str, int]
    red_flags: dict[str, float]

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


def drive(server: Server, texters: int, warmup: float, duration: float, red_flag_share: float) -> Result:
    validator = RequestValidator(AUTH_TOKEN)
    url = server.base + PATH

    def signer(params: dict[str, str]) -> str:
        return validator.compute_signature(url, params)

    began = time.monotonic()
    measure_from, measure_to = began + warmup, began + warmup + duration
    crowd = [Texter(i, server.port, signer, red_flag_share, measure_to) for i in range(texters)]
    threads = [threading.Thread(target=t.run, name=f"texter-{t.index}", daemon=True) for t in crowd]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    cpu_from, client_from = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
    time.sleep(max(0.0, measure_to - time.monotonic()))
    cpu_to, client_to = server.cpu_seconds(), resource.getrusage(resource.RUSAGE_SELF)
    for thread in threads:
        thread.join(timeout=15)
    measured = [s for t in crowd for s in t.sent if measure_from <= s.finished <= measure_to]
    statuses: dict[int, int] = {}
    for sent in measured:
        statuses[sent.status] = statuses.get(sent.status, 0) + 1
    conversations = {"benign": sum(t.finished["benign"] for t in crowd),
                     "red_flag": sum(t.finished["red_flag"] for t in crowd)}
    red_flags = {phone: at for t in crowd for phone, at in t.red_flags.items() if at >= measure_from}
    client_cpu = (client_to.ru_utime + client_to.ru_stime) - (client_from.ru_utime + client_from.ru_stime)
    return Result(server.name, duration, [(s.finished - s.started) * 1000 for s in measured], statuses,
                  cpu_to - cpu_from, client_cpu, conversations, red_flags)


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def describe(result: Result) -> str:
    lat = result.latencies_ms
    cpu_ms = 1000 * result.server_cpu / max(result.requests, 1)
    statuses = ", ".join(f"{'error' if s == 0 else s}: {n}" for s, n in sorted(result.statuses.items()) if s != 200)
    return (f"{result.name:8} {result.throughput:8.1f} req/s  latency ms p50 {percentile(lat, .5):6.1f}  "
            f"p90 {percentile(lat, .9):6.1f}  p99 {percentile(lat, .99):6.1f}  max {max(lat, default=0):7.1f}  "
            f"requests {result.requests}  non-200 {result.errors}{f' ({statuses})' if statuses else ''}\n"
            f"{'':8} server CPU {cpu_ms:.2f} ms/request ({result.server_cpu / result.seconds:.2f} cores busy), "
            f"load generator {result.client_cpu / result.seconds:.2f} cores; conversations finished: "
            f"{result.conversations['benign']} benign, {result.conversations['red_flag']} red-flag")


def page_delays(result: Result, fake: Fake) -> tuple[list[float], int]:
    """Seconds from each measured red-flag answer to its page at the fake; and how many never came."""
    arrivals: dict[str, float] = {}
    for arrived, to, body in fake.messages:
        match = PAGE_PATIENT.search(body)
        if to == NURSE and match:
            arrivals.setdefault("+" + re.sub(r"\D", "", match.group(1)), arrived)
    delays = [arrivals[phone] - sent for phone, sent in result.red_flags.items() if phone in arrivals]
    return delays, len(result.red_flags) - len(delays)


def check_database(url: str) -> str:
    """That the conversations really ran: finished ones by outcome, cases, and pages by status."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            outcomes = connection.execute(select(Conversation.outcome, func.count()).where(
                Conversation.status == "done").group_by(Conversation.outcome)).all()
            cases = connection.scalar(select(func.count()).select_from(Escalation))
            pages = connection.execute(select(Message.status, func.count()).where(Message.kind == "page")
                                       .group_by(Message.status)).all()
    finally:
        engine.dispose()
    done = ", ".join(f"{outcome}: {n}" for outcome, n in sorted(outcomes, key=lambda r: str(r[0])))
    return (f"database: finished conversations by outcome ({done}); cases {cases}; "
            f"pages by status ({', '.join(f'{s}: {n}' for s, n in pages)})")


def wait_for_pages(result: Result, fake: Fake, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and page_delays(result, fake)[1] > 0:
        time.sleep(0.1)


# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texters", type=int, default=50, help="concurrent simulated patients (default 50)")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per server (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first (default 5)")
    parser.add_argument("--red-flag-share", type=float, default=0.1,
                        help="share of conversations on the red-flag path (default 0.1)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")),
                        help="WEB_CONCURRENCY for both servers (default 2: one per core)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")),
                        help="WEB_THREADS for both servers (default 4)")
    parser.add_argument("--only", choices=("both", "service", "bare"), default="both")
    args = parser.parse_args()
    if not 0 < args.texters <= 800:
        parser.error("--texters must be 1..800 (each has its own block of phone numbers)")

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"gunicorn.conf.py with WEB_CONCURRENCY={args.workers} WEB_THREADS={args.threads} (gthread) for both; "
          f"{args.texters} texters, {args.warmup:g} s warm-up + {args.duration:g} s measured each; "
          f"red-flag share {args.red_flag_share:g}", flush=True)
    fake = start_fake()
    url, database, drop = scratch_database(folder)
    results: list[Result] = []
    try:
        engine = make_engine(url)
        upgrade(engine)  # the release phase (Procfile): migrated once, before any web process starts
        engine.dispose()
        roster = folder / "roster.yaml"
        roster.write_text(ROSTER)
        print(f"service database: {database}", flush=True)
        common = {**os.environ, "HOST": "127.0.0.1", "WEB_CONCURRENCY": str(args.workers),
                  "WEB_THREADS": str(args.threads), "NO_PROXY": "127.0.0.1,localhost",
                  "LOG_LEVEL": os.environ.get("LOG_LEVEL", "info")}
        runs = [("service", "service:create_app()"), ("bare", "bench.bare_app:create_app()")]
        for name, app in runs:
            if args.only not in ("both", name):
                continue
            port = free_port()
            env = {**common, "PORT": str(port)}
            if name == "service":
                env.update({
                    "DATABASE_URL": url, "RUN_CLOCK": "0", "TRIAGE_DISPATCH": "background",
                    "TRIAGE_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid,
                    "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_PHONE_NUMBER": CLINIC_NUMBER,
                    "TWILIO_API_BASE_URL": fake.base_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                    "ROSTER_FILE": str(roster), "CLINIC_NAME": "Bench Clinic", "CLINIC_PHONE": CLINIC_NUMBER,
                    "SECRET_KEY": uuid.uuid4().hex})
            server = start_server(name, app, env, folder)
            try:
                result = drive(server, args.texters, args.warmup, args.duration, args.red_flag_share)
                if name == "service":
                    wait_for_pages(result, fake)
            finally:
                stop_server(server)
            results.append(result)
            print(describe(result), flush=True)
            if name == "service":
                print(check_database(url), flush=True)
    finally:
        fake.close()
        drop()
    report(results, fake, args.texters)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; server logs in {folder}")


def report(results: list[Result], fake: Fake, texters: int) -> None:
    by_name = {r.name: r for r in results}
    print()
    service, bare = by_name.get("service"), by_name.get("bare")
    if service and bare:
        ratio = service.throughput / bare.throughput
        print(f"throughput ratio service/bare: {ratio:.0%} (target >= 50%)")
    if service:
        p99 = percentile(service.latencies_ms, .99)
        print(f"service p99 at {texters} concurrent conversations: {p99:.1f} ms (target < 100 ms)")
        delays, missing = page_delays(service, fake)
        if delays:
            print(f"red flag -> page at the Twilio fake: {len(delays)} pages, p50 {percentile(delays, .5) * 1000:.0f} ms, "
                  f"p99 {percentile(delays, .99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms (target < 1 s); "
                  f"missing {missing}")
        else:
            print(f"red flag -> page: no pages measured (missing {missing})")
        print(f"Twilio fake: {len(fake.violations)} spec violations, {fake.rejected} rejected requests"
              + (f": {fake.violations[:3]}" if fake.violations else ""))


if __name__ == "__main__":
    main()
