"""The web process as deployed: gunicorn (gunicorn.conf.py) with two worker processes on one database.

Twilio retries, and patients double-send: the same webhook twice at once, or two texts from one
number at once, may land on different workers. Either way the conversation advances once per text,
each text gets its answer, and a red flag pages the nurse once.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from service.db import make_engine
from service.migrate import upgrade
from service.models import Conversation, Escalation, Message, Patient
from service.settings import ROOT, Settings
from tests.conftest import AUTH_TOKEN, CLINIC_NUMBER, DATA_KEY, fresh_database
from tests.twilio_fake import TwilioFake, new_sid

pytestmark = pytest.mark.slow

WORKERS = 2  # gunicorn processes, as deployed
RED_FLAG_PATH = ["hello", "no", "yes"]  # "yes" at the bladder question: ED now, the nurse is paged
BENIGN_START = ["hello", "no", "no"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str
    fake: TwilioFake
    validator: RequestValidator

    def sms(self, body: str, frm: str, sid: str) -> requests.Response:
        params = {"From": frm, "To": CLINIC_NUMBER, "Body": body, "MessageSid": sid, "AccountSid": "AC" + "0" * 32}
        signature = self.validator.compute_signature(self.base + "/twilio/sms", params)
        return requests.post(self.base + "/twilio/sms", data=params, headers={"X-Twilio-Signature": signature},
                             timeout=20)

    def worker_pids(self) -> set[str]:
        """Worker processes that answered SMS webhooks so far, from gunicorn's access log. (Which worker
        takes a connection is the kernel's choice: once both are up, see wait_until_healthy, over
        dozens of requests both do.)"""
        return answered_by(self.log, "/twilio/sms")


def start_web(directory: Path, name: str, database_url: str, fake: TwilioFake, **env: str) -> Server:
    """gunicorn as deployed (gunicorn.conf.py, two workers, dispatch after the answer), in its own group."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": str(WORKERS), "WEB_THREADS": "4",
        "DATABASE_URL": database_url, "AUTO_MIGRATE": "0", "RUN_CLOCK": "0", "TRIAGE_DISPATCH": "background",
        "TRIAGE_TRANSPORT": "twilio", "TWILIO_ACCOUNT_SID": fake.account_sid, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_PHONE_NUMBER": CLINIC_NUMBER, "TWILIO_API_BASE_URL": fake.base_url, "PUBLIC_BASE_URL": base,
        "FLOWS_DIR": str(ROOT / "flows"), "ROSTER_FILE": str(ROOT / "roster.example.yaml"),
        "CLINIC_NAME": "Test Spine Clinic", "CLINIC_PHONE": CLINIC_NUMBER, "SECRET_KEY": "test-secret",
        "DATA_KEY": DATA_KEY, "NO_PROXY": "127.0.0.1,localhost", "LOG_LEVEL": "INFO", **env,
    }
    environment.setdefault("SPOOL_DIR", str(directory / f"{name}-spool"))  # never the checkout's instance/spool
    log = directory / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "service:create_app()"],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until_healthy(base, process, log)
    except BaseException:
        stop(process)
        raise
    return Server(base, process, log, database_url, fake, RequestValidator(AUTH_TOKEN))



@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One gunicorn for the module (starting one takes seconds), on a database of its own."""
    directory = tmp_path_factory.mktemp("gunicorn")
    with fresh_database(directory) as database_url, \
            TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN) as fake:
        engine = make_engine(database_url)
        upgrade(engine)  # the release phase: migrations run once, before any web process starts
        engine.dispose()
        server = start_web(directory, "gunicorn", database_url, fake)
        try:
            yield server
        finally:
            stop(server.process)


@pytest.fixture
def server(started: Server) -> Server:
    started.fake.reset()
    return started


def wait_until_healthy(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    """Until every worker answers /healthz. The first worker up answers the first request, but the
    other may still be loading the app: a burst of webhooks then all lands on one process, and a test
    of two processes racing tests one (seen in CI under load)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        answers = at_once(*[functools.partial(healthz, base)] * 8)
        if answers == [200] * 8 and len(answered_by(log, "/healthz")) == WORKERS:
            return
        time.sleep(0.2)
    pytest.fail(f"gunicorn's {WORKERS} workers did not all answer /healthz in {timeout} s:\n"
                f"{log.read_text()[-3000:]}")


def answered_by(log: Path, path: str) -> set[str]:
    """The worker pids that answered `path` with a 200, from gunicorn's access log."""
    return set(re.findall(rf"path={re.escape(path)} status=200 .*?pid=<?(\d+)", log.read_text()))


def healthz(base: str) -> int:
    try:
        return requests.get(base + "/healthz", timeout=2).status_code
    except requests.RequestException:
        return 0


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)  # the arbiter and its workers: a process group of their own
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def at_once(*calls: Any) -> list[Any]:
    """Run the calls on threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def patient(i: int) -> str:
    return f"+1212555{7000 + i:04d}"  # each test its own numbers: the server and database are shared


def sid(phone: str, step: int) -> str:
    return f"SM{phone[-4:]}{step:02d}".ljust(34, "0")


def wait_for_outbox(database_url: str, timeout: float = 20) -> None:
    """Every queued text handed to Twilio (the web process sends them after answering)."""
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                waiting = connection.scalar(select(func.count()).select_from(Message).where(
                    Message.direction == "out", Message.status.in_(("queued", "sending", "retry"))))
            if waiting == 0:
                return
            time.sleep(0.2)
        pytest.fail(f"{waiting} texts still unsent after {timeout} s")
    finally:
        engine.dispose()


def conversation_of(database_url: str, phone: str) -> dict[str, Any]:
    engine = make_engine(database_url, Settings(data_key=DATA_KEY).keyring())  # sealed, as the server wrote it
    try:
        with engine.connect() as connection:
            [patient_id] = connection.scalars(select(Patient.id).where(Patient.phone == phone)).all()
            [row] = connection.execute(select(Conversation.node, Conversation.status, Conversation.level,
                                              Conversation.state).where(Conversation.patient_id == patient_id)).all()
            inbound = connection.scalar(select(func.count()).select_from(Message).where(
                Message.patient_id == patient_id, Message.direction == "in"))
            cases = connection.scalar(select(func.count()).select_from(Escalation).where(
                Escalation.patient_id == patient_id))
            pages = connection.scalar(select(func.count()).select_from(Message).where(
                Message.patient_id == patient_id, Message.kind == "page"))
    finally:
        engine.dispose()
    state = row.state
    return {"node": row.node, "status": row.status, "level": row.level, "answers": state.get("answers"),
            "red_flags": state.get("red_flags"), "inbound": inbound, "cases": cases, "pages": pages}


PATIENTS = 5


def test_the_same_webhook_twice_at_once_advances_once_and_pages_once(server: Server) -> None:
    phones = [patient(i) for i in range(PATIENTS)]
    replies: dict[str, list[tuple[int, str, int, str]]] = {}

    def converse(phone: str) -> None:
        got = []
        for step, text in enumerate(RED_FLAG_PATH):
            send = functools.partial(server.sms, text, phone, sid(phone, step))
            first, second = at_once(send, send)
            got.append((first.status_code, first.text, second.status_code, second.text))
        replies[phone] = got

    at_once(*[lambda p=p: converse(p) for p in phones])  # the very first conversations: nothing exists yet
    reference = patient(99)  # the same texts, one at a time
    expected_replies = [server.sms(text, reference, sid(reference, step)).text
                        for step, text in enumerate(RED_FLAG_PATH)]
    for phone in phones:
        for step, (status_a, text_a, status_b, text_b) in enumerate(replies[phone]):
            assert status_a == status_b == 200
            assert text_a == text_b == expected_replies[step], (phone, step)
    wait_for_outbox(server.database_url)
    want = conversation_of(server.database_url, reference)
    assert (want["level"], want["inbound"], want["cases"], want["pages"]) == ("ed_now", 3, 1, 1)
    for phone in phones:
        assert conversation_of(server.database_url, phone) == want, phone
    # Whoever is on call right now (the server runs on real time) got one page per patient.
    pages = [m for m in server.fake.messages if m["body"].startswith("URGENT case")]
    assert len(pages) == PATIENTS + 1 and len({m["to"] for m in pages}) == 1
    assert len(server.worker_pids()) == 2  # both workers served webhooks
    assert server.fake.violations == []


def test_two_texts_from_one_number_at_once_are_both_taken_in_turn(server: Server) -> None:
    phones = [patient(100 + i) for i in range(PATIENTS)]
    results: dict[str, list[requests.Response]] = {}

    def converse(phone: str) -> None:
        server.sms(BENIGN_START[0], phone, sid(phone, 0))
        results[phone] = at_once(lambda: server.sms(BENIGN_START[1], phone, sid(phone, 1)),
                                 lambda: server.sms(BENIGN_START[2], phone, sid(phone, 2)))

    at_once(*[lambda p=p: converse(p) for p in phones])
    reference = patient(198)
    expected = [server.sms(text, reference, sid(reference, step)).text for step, text in enumerate(BENIGN_START)]
    want = conversation_of(server.database_url, reference)
    assert want["inbound"] == 3 and want["node"] is not None
    for phone in phones:
        assert [r.status_code for r in results[phone]] == [200, 200]
        # One text got the second question, the other the third: neither was lost nor taken twice.
        assert sorted(r.text for r in results[phone]) == sorted(expected[1:]), phone
        assert conversation_of(server.database_url, phone) == want, phone
    assert len(server.worker_pids()) == 2
    assert server.fake.violations == []


def test_the_server_header_names_no_versions(server: Server) -> None:
    """Werkzeug's development server (flask run, dev only) answers `Server: Werkzeug/3.1.8 Python/3.11.7`:
    versions to look up known holes by. Production's gunicorn names itself and nothing more."""
    for response in (requests.get(server.base + "/healthz", timeout=5),
                     requests.get(server.base + "/dashboard/login", timeout=5),
                     server.sms("hello", patient(300), sid(patient(300), 0))):
        assert response.status_code == 200
        assert response.raw.headers.getlist("Server") == ["gunicorn"], response.headers
        assert not re.search(r"[0-9/]", response.headers["Server"])
