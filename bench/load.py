"""Load benchmark for the SMS webhook: the service against a bare Flask app. A script, not a test.

    python bench/load.py                                   # scratch SQLite file; 50 texters
    DATABASE_URL=postgresql://... python bench/load.py     # a scratch schema in that Postgres database
    python bench/load.py --texters 50 --duration 30 --think 3 --workers 2 --threads 8
    python bench/load.py --encryption both                 # the service with DATA_KEY and without (SQLite)

What it does:
1. Starts the Twilio fake (tests/twilio_fake.py: validates every REST call against Twilio's OpenAPI
   spec) in a process of its own, as real Twilio is another machine; it stamps each message it
   accepts with the system's monotonic clock, which this process shares.
2. Makes a fresh database (a temp SQLite file, or a new schema in DATABASE_URL's Postgres) and
   migrates it, as the Procfile's release phase does, and writes a roster whose first nurse is always
   on call (so the result does not depend on the hour of the run). RUN_CLOCK=0: the clock is its own
   process in production, and none of its timers fall due in a run this short.
3. Two runs, each against the service and then bench/bare_app.py (a bare Flask app answering every
   webhook with one fixed TwiML reply), each server started afresh with `gunicorn -c gunicorn.conf.py`
   on a free 127.0.0.1 port with the same WEB_CONCURRENCY / WEB_THREADS, driven for `--warmup` +
   `--duration` seconds once every worker has answered /healthz, then stopped (SIGTERM to its process group):
   - "instant": every texter sends its next text the moment the reply is in. A closed loop with no
     pause is a saturation test: it gives the throughput, and the ratio to the bare app. Its latency
     is the queue: with N texters always waiting, latency = N / throughput (Little's law).
   - "think": each texter pauses before answering (exponential, mean `--think` seconds, 3 by default:
     a very quick reader). This is 50 concurrent conversations at a pace people text, and gives the
     latency a patient sees and the time to page the nurse.
4. Each texter is a thread (http.client: the lightest client in the standard library, so the load
   generator, which shares the two cores with the servers, takes as little CPU as it can) with one
   keep-alive HTTP/1.1 connection per conversation, so the workers share the texters as they do
   Twilio's connections (a connection for the whole run stays on the worker that accepted it). It
   plays whole conversations, one after another, each from a new phone number: the benign path
   ("hi" and twelve "no": home-care advice) or, for `--red-flag-share` of them, the red-flag path
   ("hi", "no", "yes": ED now, the on-call nurse is paged). Every POST is signed like Twilio's
   (X-Twilio-Signature over PUBLIC_BASE_URL + path and the form). The bare app gets exactly the
   same requests.
5. Prints a row per server and run: requests/s, latency p50/p90/p99/max, non-200 answers (and
   connections that failed), the server's CPU per request and cores used, the load generator's
   cores, each worker's share of the requests (from the access log), conversations finished; then
   per run the throughput ratio, the service's p99, and how long a page took from sending the
   red-flag answer (and from its reply) to reaching the Twilio fake; and a check in the database
   that the conversations really ran (outcomes, cases, pages sent).

Pages are matched to red-flag answers by the patient's number: each conversation has its own
number and the page quotes it ("Patient +1 312-201-0007 (text)"), so the digits in the page find
the time the red-flag answer was sent. Only red-flag answers sent after the warm-up count.

Encryption at rest: the service runs with a DATA_KEY (made afresh for the run), as production must;
`--encryption off` runs it without one (dev's default, readable columns: SQLite only, since a shared
database refuses to start without a key), and `both` runs the two one after the other ("service" with
the key, "svc-nokey" without) on the same database, to show what sealing costs a text.

Latency is client-side: from just before the request is written to when the whole reply is read,
so it includes the load generator's own queueing (its threads share one interpreter and the cores
with the servers). The figures are for this machine as it was during the run: the load average is
printed, and the server's CPU per request is the figure least disturbed by other work.
"""

from __future__ import annotations

import argparse
import html
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
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, make_url, select, text  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from service.db import make_engine, scratch_schema  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from service.models import Conversation, Escalation, Message  # noqa: E402
from service.privacy.keys import new_key  # noqa: E402

AUTH_TOKEN = "bench-auth-token"  # webhooks are signed with it; the fake checks REST calls with it too
CLINIC_NUMBER = "+12125550100"
NURSE = "+12125550101"
BENIGN = ["hi", *["no"] * 12]  # every screening question answered "no": home-care advice
RED_FLAG = ["hi", "no", "yes"]  # "yes" to the bladder/bowel question: ED now, the on-call nurse is paged
PATH = "/twilio/sms"
VOICE_PATH = "/twilio/voice"
# A call, by keypad: ring, let the language offer pass (silence), then the screen's answers (2: no, 1: yes), then
# "2" to the offer to get the advice by text (benign); the red-flag call ends at the <Dial> to the nurse.
BENIGN_CALL = [None, None, *["2"] * 12, "2"]
RED_FLAG_CALL = [None, None, "2", "1"]
GATHER_ACTION = re.compile(r'<(?:Gather|Redirect)[^>]*?(?:action="([^"]+)"|>([^<]+)</Redirect>)')
PAGE_PATIENT = re.compile(r"Patient (\+[\d ()-]+\d)")
TICKS = os.sysconf("SC_CLK_TCK")
DATA_KEY = new_key()  # this run's: the service seals patient content with it, as in production
ROSTER = f"""# bench/load.py: one nurse, always on call (a roster with only nurses: the first is on call)
nurses:
  - name: Nurse Bench
    phone: "{NURSE}"
"""


# --------------------------------------------------------------------------
# The Twilio fake, in a process of its own
# --------------------------------------------------------------------------


def run_fake(out: Any, stop: Any) -> None:
    """Child process (`out`: an mp.Queue, `stop`: an mp.Event): serve the fake; report each accepted
    message with its arrival time."""
    sys.path.insert(0, str(ROOT))
    from tests.twilio_fake import TwilioFake, new_sid

    with TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN) as fake:
        out.put(("ready", fake.base_url, fake.account_sid))
        seen = 0

        def more() -> bool:
            return len(fake.messages) > seen

        while not stop.is_set():
            try:
                fake.wait_for(more, timeout=0.2)
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
        _, base_url, account_sid = out.get(timeout=60)
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
        stack = ExitStack()
        scoped = stack.enter_context(scratch_schema(url, "bench"))
        engine = make_engine(scoped)
        with engine.connect() as connection:
            version = connection.scalar(text("SHOW server_version"))
        engine.dispose()
        host = make_url(url).host or "local socket"
        return scoped, f"Postgres {version} at {host}, scratch schema", stack.close
    path = folder / "bench.sqlite3"

    def remove() -> None:
        for leftover in folder.glob("bench.sqlite3*"):  # the database and its -wal and -shm files
            leftover.unlink()

    return f"sqlite:///{path}", f"SQLite (fresh file {path}, WAL)", remove


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
        wait_until_ready(server, int(env["WEB_CONCURRENCY"]))
    except BaseException:
        stop_server(server)
        raise
    return server


def wait_until_ready(server: Server, workers: int, timeout: float = 60) -> None:
    """Until every worker has answered /healthz. The first worker up answers the first request while the
    others may still be loading the app (the service's flows take seconds of CPU to load and warm): measuring
    then would time one worker, and the others' start-up on the same cores (tests/process/test_gunicorn.py
    waits the same way). Which worker answered is read from the access log's pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name}: gunicorn exited with {server.process.returncode}; see {server.log}")
        probes = [threading.Thread(target=_healthz, args=(server.port,)) for _ in range(2 * workers)]
        for probe in probes:  # at once, each on a new connection: any listening worker may take one
            probe.start()
        for probe in probes:
            probe.join()
        answered = set(re.findall(r"path=/healthz status=200 .*?pid=<?(\d+)", server.log.read_text(errors="replace")))
        if len(answered) >= workers:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{server.name}: not every worker answered /healthz in {timeout} s; see {server.log}")


def _healthz(port: int) -> None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()
    except OSError:
        pass


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
    area: int  # the patients' area code: each run its own numbers
    port: int
    signer: Callable[[dict[str, str], str], str]  # (form, path with query) -> X-Twilio-Signature
    red_flag_share: float
    think: float  # mean seconds a patient takes to answer (0: at once)
    end: float
    channel: str = "sms"  # or voice: each conversation is a call, its callbacks following the TwiML's URLs
    sent: list[Sent] = field(default_factory=list)
    red_flags: dict[str, tuple[float, float]] = field(default_factory=dict)  # number -> red flag sent, answered
    finished: dict[str, int] = field(default_factory=lambda: {"benign": 0, "red_flag": 0})
    pauses: random.Random = field(default_factory=random.Random)

    def phone(self, conversation: int) -> str:
        return f"+1{self.area}{200 + self.index:03d}{conversation:04d}"  # a new patient for every conversation

    def run(self) -> None:
        chooser = random.Random(self.index)  # the same mix of conversations (and pauses) for both servers
        self.pauses.seed(-1 - self.index)
        conversation = 0
        while time.monotonic() < self.end and conversation < 9999:
            conversation += 1
            red_flag = chooser.random() < self.red_flag_share
            # A connection per conversation: a patient's texts come minutes apart, on whichever connection
            # Twilio has then. One connection for the whole run would also pin every texter to the worker
            # that happened to accept it first (all 50 went to one of two workers in earlier runs).
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                converse = self.call if self.channel == "voice" else self.converse
                if converse(connection, self.phone(conversation), RED_FLAG if red_flag else BENIGN):
                    self.finished["red_flag" if red_flag else "benign"] += 1
            finally:
                connection.close()

    def converse(self, connection: http.client.HTTPConnection, phone: str, texts: list[str]) -> bool:
        for step, body in enumerate(texts):
            if self.think:  # a patient reading the reply and typing: exponential, so texters drift apart
                time.sleep(min(self.pauses.expovariate(1 / self.think), max(0.0, self.end - time.monotonic())))
            if time.monotonic() >= self.end:
                return False
            params = {"ToCountry": "US", "From": phone, "To": CLINIC_NUMBER, "Body": body, "NumMedia": "0",
                      "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32}
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": self.signer(params, PATH), "User-Agent": "TwilioProxy/1.1"}
            payload = urlencode(params)
            started = time.monotonic()
            status = self.post(connection, payload, headers)
            self.sent.append(Sent(started, time.monotonic(), status))
            if texts is RED_FLAG and step == len(texts) - 1 and status == 200:
                self.red_flags[phone] = (started, self.sent[-1].finished)
            if status != 200:
                return False
        return True

    def call(self, connection: http.client.HTTPConnection, phone: str, texts: list[str]) -> bool:
        """One phone call by keypad, as Twilio makes its callbacks: each to the URL the last TwiML named (its
        <Gather> action, else its <Redirect>), signed over that URL with its query string."""
        keys = RED_FLAG_CALL if texts is RED_FLAG else BENIGN_CALL
        sid, path = "CA" + uuid.uuid4().hex, VOICE_PATH
        for step, digit in enumerate(keys):
            if self.think and step > 0:
                time.sleep(min(self.pauses.expovariate(1 / self.think), max(0.0, self.end - time.monotonic())))
            if time.monotonic() >= self.end:
                return False
            params = {"CallSid": sid, "AccountSid": "AC" + "0" * 32, "From": phone, "To": CLINIC_NUMBER,
                      "Direction": "inbound", "CallStatus": "ringing" if step == 0 else "in-progress",
                      "ApiVersion": "2010-04-01"}
            if digit is not None:
                params["Digits"] = digit
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": self.signer(params, path), "User-Agent": "TwilioProxy/1.1"}
            started = time.monotonic()
            status, reply = self.exchange(connection, path, urlencode(params), headers)
            self.sent.append(Sent(started, time.monotonic(), status))
            if keys is RED_FLAG_CALL and step == len(keys) - 1 and status == 200:
                self.red_flags[phone] = (started, self.sent[-1].finished)
            if status != 200:
                return False
            found = GATHER_ACTION.search(reply)
            if found is None:  # a <Dial> or <Hangup>: the call is over (the dial's own callback is not played)
                return step == len(keys) - 1
            path = html.unescape(found.group(1) or found.group(2) or VOICE_PATH)
        return True

    @staticmethod
    def post(connection: http.client.HTTPConnection, payload: str, headers: dict[str, str]) -> int:
        return Texter.exchange(connection, PATH, payload, headers)[0]

    @staticmethod
    def exchange(connection: http.client.HTTPConnection, path: str, payload: str,
                 headers: dict[str, str]) -> tuple[int, str]:
        """The reply's status and body (negative: not TwiML; 0: no answer). A keep-alive connection the server
        closed while the patient was thinking (gunicorn's keepalive is 5 s) is reopened once, as Twilio
        would; resending is safe, the service answers a repeated MessageSid once."""
        for attempt in (1, 2):
            try:
                connection.request("POST", path, body=payload, headers=headers)
                response = connection.getresponse()
                reply = response.read()
                return (response.status if b"<Response>" in reply else -response.status), reply.decode()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()  # http.client connects again on the next request
                if attempt == 2:
                    return 0, ""
            except (OSError, http.client.HTTPException):
                connection.close()
                return 0, ""
        return 0, ""


@dataclass
class Result:
    name: str
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    server_cpu: float
    client_cpu: float
    conversations: dict[str, int]
    red_flags: dict[str, tuple[float, float]]
    workers: str = ""  # each worker's share of the webhooks, from the access log

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)


def drive(server: Server, area: int, texters: int, warmup: float, duration: float, red_flag_share: float,
          think: float, channel: str = "sms") -> Result:
    validator = RequestValidator(AUTH_TOKEN)

    def signer(params: dict[str, str], path: str) -> str:
        return validator.compute_signature(server.base + path, params)

    began = time.monotonic()
    measure_from, measure_to = began + warmup, began + warmup + duration
    crowd = [Texter(i, area, server.port, signer, red_flag_share, think, measure_to, channel) for i in range(texters)]
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
    red_flags = {phone: at for t in crowd for phone, at in t.red_flags.items() if at[0] >= measure_from}
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


HEADER = (f"{'run':16} {'server':9} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'non-200':>7} {'CPU ms/req':>10} {'cores':>5} {'client':>6} {'workers':>9}  "
          "conversations (benign + red-flag)")


def describe(result: Result) -> str:
    """One row under HEADER. cores: the server's CPU use; client: the load generator's."""
    lat = result.latencies_ms
    cpu_ms = 1000 * result.server_cpu / max(result.requests, 1)
    statuses = ", ".join(f"{'conn' if s == 0 else s}: {n}" for s, n in sorted(result.statuses.items()) if s != 200)
    return (f"{result.name:9} {result.throughput:7.1f} {percentile(lat, .5):7.1f} {percentile(lat, .9):7.1f} "
            f"{percentile(lat, .99):7.1f} {max(lat, default=0):7.1f} {result.errors:7d} {cpu_ms:10.2f} "
            f"{result.server_cpu / result.seconds:5.2f} {result.client_cpu / result.seconds:6.2f} {result.workers:>9}  "
            f"{result.conversations['benign']} + {result.conversations['red_flag']}"
            + (f"  ({statuses})" if statuses else ""))


def page_delays(result: Result, fake: Fake) -> tuple[list[float], list[float], int]:
    """For each measured red-flag answer, seconds to its page at the fake from sending the answer and
    from its reply (the page goes after the commit); and how many pages never came."""
    arrivals: dict[str, float] = {}
    for arrived, to, body in fake.messages:
        match = PAGE_PATIENT.search(body)
        if to == NURSE and match:
            arrivals.setdefault("+" + re.sub(r"\D", "", match.group(1)), arrived)
    found = [(arrivals[phone], sent, answered) for phone, (sent, answered) in result.red_flags.items()
             if phone in arrivals]
    return ([at - sent for at, sent, _ in found], [at - answered for at, _, answered in found],
            len(result.red_flags) - len(found))


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
    while time.monotonic() < deadline and page_delays(result, fake)[2] > 0:
        time.sleep(0.1)


# --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texters", type=int, default=50, help="concurrent simulated patients (default 50)")
    parser.add_argument("--duration", type=float, default=30.0, help="measured seconds per run (default 30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first (default 5)")
    parser.add_argument("--red-flag-share", type=float, default=0.1,
                        help="share of conversations on the red-flag path (default 0.1)")
    parser.add_argument("--think", type=float, default=0.5,
                        help="mean seconds a patient takes to answer in the `think` run (default 0.5: about 100 "
                             "texts/s from 50 texters, a quarter of the service's capacity; 0: no such run)")
    parser.add_argument("--channel", choices=("sms", "voice", "both"), default="sms",
                        help="texts to /twilio/sms, calls by keypad to the voice callbacks, or both, one after "
                             "the other")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")),
                        help="WEB_CONCURRENCY for both servers (default 2: one per core)")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "8")),
                        help="WEB_THREADS for both servers (default 8: the service waits on fsync and the "
                             "database part of each request, so more threads than cores keep both cores busy)")
    parser.add_argument("--only", choices=("both", "service", "bare", "floor"), default="both")
    parser.add_argument("--floor", action="store_true",
                        help="also run bench/floor_app.py: a signature check and one durable INSERT per webhook")
    parser.add_argument("--runs", choices=("both", "instant", "think"), default="both")
    parser.add_argument("--encryption", choices=("on", "off", "both"), default="on",
                        help="the service with DATA_KEY (on, as production), without (off: SQLite only), or both")
    args = parser.parse_args()
    if not 0 < args.texters <= 800:
        parser.error("--texters must be 1..800 (each has its own block of phone numbers)")

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average before "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"both servers: gunicorn.conf.py, WEB_CONCURRENCY={args.workers} WEB_THREADS={args.threads} (gthread); "
          f"{args.texters} texters; {args.warmup:g} s warm-up + {args.duration:g} s measured per run; "
          f"red-flag share {args.red_flag_share:g}", flush=True)
    fake = start_fake()
    url, database, drop = scratch_database(folder)
    runs: list[tuple[str, Result]] = []
    try:
        engine = make_engine(url)
        upgrade(engine)  # the release phase (Procfile): migrated once, before any web process starts
        engine.dispose()
        roster = folder / "roster.yaml"
        roster.write_text(ROSTER)
        print(f"service database: {database}", flush=True)
        print(HEADER, flush=True)
        phases = [("instant", 0.0), (f"think {args.think:g}s", args.think)]
        phases = [(phase, think) for phase, think in phases
                  if args.runs in ("both", phase.split()[0]) and (think > 0 or phase == "instant")]
        channels = ["sms", "voice"] if args.channel == "both" else [args.channel]
        for channel, first_area in zip(channels, (312, 415), strict=False):  # each run its own area code
            for area, (phase, think) in enumerate(phases, start=first_area):
                label = phase if channel == "sms" else f"{phase} voice"
                services = {"on": ["service"], "off": ["svc-nokey"], "both": ["service", "svc-nokey"]}[args.encryption]
                for name in (*services, "floor", "bare"):
                    if args.only in ("both", name.replace("svc-nokey", "service")) and (
                            name != "floor" or args.floor or args.only == "floor"):
                        # svc-nokey's patients get numbers of their own: a page is matched to its answer by number
                        result = run(name, area + (100 if name == "svc-nokey" else 0), think, args, fake, url,
                                     roster, folder, channel)
                        runs.append((label, result))
                        print(f"{label:16} {describe(result)}", flush=True)
        if args.only != "bare":
            print(check_database(url), flush=True)
    finally:
        fake.close()
        drop()
    report(runs, fake, args.texters)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; server logs in {folder}")


def run(name: str, area: int, think: float, args: argparse.Namespace, fake: Fake, url: str, roster: Path,
        folder: Path, channel: str = "sms") -> Result:
    """Start one server, drive it, stop it. `area`: the patients' area code, new numbers for each run."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(args.workers),
           "WEB_THREADS": str(args.threads), "NO_PROXY": "127.0.0.1,localhost",
           "LOG_LEVEL": os.environ.get("LOG_LEVEL", "info")}
    if name in ("service", "svc-nokey"):
        env.pop("DATA_KEY", None)
        env.pop("DATA_KEY_OLD", None)
        if name == "service":
            env["DATA_KEY"] = DATA_KEY
        env.update({
            "DATABASE_URL": url, "RUN_CLOCK": "0", "TRIAGE_DISPATCH": "background", "TRIAGE_TRANSPORT": "twilio",
            "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_PHONE_NUMBER": CLINIC_NUMBER, "TWILIO_API_BASE_URL": fake.base_url,
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "ROSTER_FILE": str(roster),
            "CLINIC_NAME": "Bench Clinic", "CLINIC_PHONE": CLINIC_NUMBER, "SECRET_KEY": uuid.uuid4().hex})
    if name == "floor":
        env.update({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                    "FLOOR_DATABASE": str(folder / f"floor-{area}.sqlite3")})
    app = {"service": "service:create_app()", "svc-nokey": "service:create_app()",
           "bare": "bench.bare_app:create_app()", "floor": "bench.floor_app:create_app()"}[name]
    server = start_server(name, app, env, folder)
    try:
        result = drive(server, area, args.texters, args.warmup, args.duration, args.red_flag_share, think, channel)
        if name in ("service", "svc-nokey"):
            wait_for_pages(result, fake)
    finally:
        stop_server(server)
    result.workers = worker_split(server.log)
    return result


def worker_split(log: Path) -> str:
    """Each worker's share of the webhooks answered, e.g. "51/49%" (gunicorn's access log names the pid)."""
    counts: dict[str, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("access ") and "path=/twilio/" in line:
            pid = line.rsplit("pid=", 1)[-1].split()[0]
            counts[pid] = counts.get(pid, 0) + 1
    total = sum(counts.values()) or 1
    return "/".join(f"{100 * n / total:.0f}" for n in sorted(counts.values(), reverse=True)) + "%"


def report(runs: list[tuple[str, Result]], fake: Fake, texters: int) -> None:
    print()
    by_phase: dict[str, dict[str, Result]] = {}
    for phase, result in runs:
        by_phase.setdefault(phase, {})[result.name] = result
    for phase, results in by_phase.items():
        service, bare, floor = results.get("service"), results.get("bare"), results.get("floor")
        if service and bare and phase.startswith("instant"):  # with pauses both just keep up with the texters
            print(f"{phase}: throughput service/bare {service.throughput / bare.throughput:.0%}")
        if floor and bare and phase.startswith("instant"):
            print(f"{phase}: throughput floor/bare {floor.throughput / bare.throughput:.0%}"
                  + (f", service/floor {service.throughput / floor.throughput:.0%} (target >= 60%)" if service else ""))
        for variant in (results.get("service"), results.get("svc-nokey")):
            if variant is None:
                continue
            print(f"{phase}: {variant.name} p99 at {texters} concurrent conversations "
                  f"{percentile(variant.latencies_ms, .99):.1f} ms"
                  + (" (target < 50 ms at ~100 a second)" if not phase.startswith("instant") else ""))
            sent, answered, missing = page_delays(variant, fake)
            if sent:
                print(f"{phase}: {variant.name}: red-flag answer -> page at the Twilio fake: {len(sent)} pages, p50 "
                      f"{percentile(sent, .5) * 1000:.0f} ms, p99 {percentile(sent, .99) * 1000:.0f} ms, max "
                      f"{max(sent) * 1000:.0f} ms (target < 1 s); after the webhook's reply: p50 "
                      f"{percentile(answered, .5) * 1000:.0f} ms, max {max(answered) * 1000:.0f} ms; "
                      f"missing {missing}")
            else:
                print(f"{phase}: no red-flag answers measured (missing pages: {missing})")
        plain = results.get("svc-nokey")
        if service and plain:
            def cpu(result: Result) -> float:
                return 1000 * result.server_cpu / max(result.requests, 1)
            print(f"{phase}: encryption at rest: CPU {cpu(service):.2f} ms/text with DATA_KEY, {cpu(plain):.2f} "
                  f"without; {service.throughput:.1f} vs {plain.throughput:.1f} texts/s; p99 "
                  f"{percentile(service.latencies_ms, .99):.1f} vs {percentile(plain.latencies_ms, .99):.1f} ms")
    print(f"Twilio fake: {len(fake.violations)} spec violations, {fake.rejected} rejected requests"
          + (f": {fake.violations[:3]}" if fake.violations else ""))


if __name__ == "__main__":
    main()
