"""Faults of the process and the database, not of Twilio (tests/service/test_faults.py has those).

1. The web process is killed (SIGKILL, master and workers) mid-conversation, at the worst moment: a
   red flag's webhook has answered 200 and committed its page, but no outbox thread has claimed it
   yet. After a restart on the same database the page goes once, every conversation resumes where
   it was, and Twilio replaying a webhook (same MessageSid) advances nothing and pages no one again.
2. The database is unavailable for a moment. Every webhook still answers 200 with TwiML that tells
   the patient to call the clinic or 911 (never a 500: the patient would hear nothing), nothing is
   half-written, and once the database is back the same webhook, retried, is taken once.

Where a kill lands decides what follows for a page (or any queued text):
- committed, not yet claimed (`queued`): the restarted process sends it once, at once;
- claimed (`sending`), request not yet at Twilio: sent once, but only when the claim's lease
  (service/outbox/outbound.py, LEASE, 30 seconds) has run out;
- accepted by Twilio, not yet recorded as sent: Twilio delivers it; after the lease the outbox looks
  in Twilio's message list before sending again (Twilio's REST API has no idempotency key for creating
  messages), finds it (same To, From and body, made since the row) and marks the row sent with its
  SID: once, not twice.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select, text

from service import create_app
from service.channels.sms import fallback_text
from service.db import make_engine
from service.escalation import nurse_sms
from service.migrate import upgrade
from service.models import Checkin, Conversation, Escalation, EscalationEvent, Message, Patient, WebhookReceipt
from service.outbox.outbound import LEASE
from service.services import Services, utc_now
from service.settings import ROOT, Settings
from tests.conftest import AUTH_TOKEN, CLINIC_NUMBER, DATA_KEY, NURSE_AVERY, Twilio, fresh_database, play
from tests.databases import postgres_url
from tests.process.test_gunicorn import Server, at_once, conversation_of, start_web, stop
from tests.twilio_fake import TwilioFake, new_sid

pytestmark = pytest.mark.slow

POSTGRES = postgres_url() is not None


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


# --- 1. SIGKILL mid-conversation ---------------------------------------------------------------------

MID = "+12125558001"  # half way through the screen when the server dies
RED = "+12125558002"  # answered a red flag just before the server died
REFERENCE = "+12125558003"  # the same texts as MID, on the restarted server, uninterrupted
MID_TEXTS = ["hello", "no", "no", "no"]  # the kill comes after the third
RED_TEXTS = ["hello", "no", "yes"]  # "yes" at the bladder question: ED now, the nurse is paged
SLOW_TWILIO = 15.0  # seconds Twilio takes to answer a page while the server is killed


def sid(phone: str, step: int) -> str:
    return f"SM{phone[-4:]}{step:02d}".ljust(34, "0")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the arbiter and every worker at once: no handler runs, nothing is flushed or finished."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        stop(server.process)  # a no-op when the test already killed it


def pages(db: Engine) -> list[Any]:
    with db.connect() as connection:
        return list(connection.execute(
            select(Message.id, Message.status, Message.attempts, Message.escalation_id, Patient.phone)
            .join(Escalation, Escalation.id == Message.escalation_id).join(Patient, Patient.id == Escalation.patient_id)
            .where(Message.kind == "page").order_by(Message.id)))


def page_texts(messages: list[dict[str, Any]], case_id: int) -> list[dict[str, Any]]:
    """The pages of one case (to whoever is on call now: the server runs on real time)."""
    return [m for m in messages if m["body"].startswith(f"URGENT case {case_id} (")]


def jam_the_outbox(server: Server, db: Engine) -> list[str]:
    """Other patients' pages until each worker's one outbox thread is stuck in a slow Twilio call: a page
    queued now waits, committed but unclaimed, behind them."""
    patients: list[str] = []
    for burst in range(8):
        phones = [f"+1212555{8100 + 2 * burst + i:04d}" for i in range(2)]
        patients += phones
        # At once, so both workers take some; "yes" to fainting pages the nurse.
        at_once(*[lambda p=p: [server.sms(t, p, sid(p, s)) for s, t in enumerate(["hello", "yes"])]
                  for p in phones])
        if wait_until(lambda: [p.status for p in pages(db)].count("sending") == 2, timeout=1.5):
            return patients
    pytest.fail(f"the outbox threads were not both stuck: {pages(db)}")


def test_server_killed_after_a_red_flag_answer_restarts_pages_once_and_resumes(tmp_path: Path) -> None:
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(tmp_path))
        fake = stack.enter_context(TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN))
        db = make_engine(database_url)
        stack.callback(db.dispose)
        upgrade(db)
        # Twilio's client waits longer than Twilio takes: the stuck sends are still in flight at the kill.
        # One outbox thread per worker, so two slow sends jam both and a new page waits, unclaimed.
        first = stack.enter_context(running(start_web(tmp_path, "first", database_url, fake, TWILIO_TIMEOUT="20",
                                                      OUTBOX_THREADS="1")))

        mid_replies = [first.sms(t, MID, sid(MID, s)).text for s, t in enumerate(MID_TEXTS[:3])]
        for step, text_ in enumerate(RED_TEXTS[:2]):
            assert first.sms(text_, RED, sid(RED, step)).status_code == 200
        mid_before = conversation_of(database_url, MID)
        assert mid_before["node"] == "q_saddle" and mid_before["inbound"] == 3

        fake.delay_next(20, seconds=SLOW_TWILIO)
        blockers = jam_the_outbox(first, db)
        red = first.sms(RED_TEXTS[2], RED, sid(RED, 2))
        assert red.status_code == 200 and "emergency department now" in red.text and "911" in red.text
        # The worst moment: the patient was answered, the page is committed, nothing has claimed it.
        [red_page] = [p for p in pages(db) if p.phone == RED]
        assert (red_page.status, red_page.attempts) == ("queued", 0)
        kill_group(first.process)

        in_flight = {p.id: p.escalation_id for p in pages(db) if p.status == "sending"}
        assert len(in_flight) == 2 and [p.status for p in pages(db) if p.phone == RED] == ["queued"]
        before_kill = fake.messages  # normally none: the two in flight are still being sent
        fake.reset()  # Twilio is quick again (the two requests in flight still finish, late)

        def sent(case_id: int) -> int:
            return len(page_texts(before_kill + fake.messages, case_id))

        # The restart. RUN_CLOCK: the web process runs the clock's jobs, so its outbox sweep sends what
        # the dead process left queued, with no webhook needed to wake it.
        second = stack.enter_context(running(start_web(tmp_path, "second", database_url, fake, RUN_CLOCK="1")))
        case = red_page.escalation_id
        assert wait_until(lambda: sent(case) >= 1, timeout=20), pages(db)

        # Twilio replays the red flag's webhook: the same answer, no second page, nothing advanced.
        again = second.sms(RED_TEXTS[2], RED, sid(RED, 2))
        assert (again.status_code, again.text) == (200, red.text)
        red_now = conversation_of(database_url, RED)
        assert (red_now["level"], red_now["inbound"], red_now["cases"], red_now["pages"]) == ("ed_now", 3, 1, 1)

        # The conversation cut off half way goes on at the next question, as if nothing happened.
        replay = second.sms(MID_TEXTS[2], MID, sid(MID, 2))
        assert (replay.status_code, replay.text) == (200, mid_replies[2])
        assert conversation_of(database_url, MID) == mid_before
        resumed = second.sms(MID_TEXTS[3], MID, sid(MID, 3))
        expected = [second.sms(t, REFERENCE, sid(REFERENCE, s)).text for s, t in enumerate(MID_TEXTS)]
        assert mid_replies + [resumed.text] == expected
        assert conversation_of(database_url, MID) == conversation_of(database_url, REFERENCE)
        assert conversation_of(database_url, MID)["node"] == "q_legs"

        # Pages committed but unclaimed at the kill: sent exactly once, by the restarted process.
        queued_at_kill = [p for p in pages(db) if p.id not in in_flight]
        assert len(queued_at_kill) == len(blockers) - 2 + 1
        assert wait_until(lambda: all(p.status == "sent" for p in pages(db) if p.id not in in_flight), timeout=15)
        for page in queued_at_kill:
            assert sent(page.escalation_id) == 1, page

        # The two pages whose requests were in flight at the kill: Twilio still sends them, and their rows
        # stay `sending` until the lease (longer than Twilio's timeout) runs out. Then the outbox sweep finds
        # each in Twilio's list and records it sent, without sending it again.
        fake.wait_for(lambda: all(sent(case_id) == 1 for case_id in in_flight.values()), timeout=SLOW_TWILIO + 5)
        later = create_app(sweeper_settings(database_url, fake), clock=lambda: utc_now() + LEASE + timedelta(seconds=1))
        sweeper: Services = later.extensions["triage"]
        stack.callback(sweeper.engine.dispose)
        # By now the restarted server's own sweep may have done some (the lease runs in real time there too), or be
        # in the middle of one (its claim held, Twilio's list being read): wait for it to log, then count.
        swept = sweeper.outbox.deliver()

        def reconciled() -> int:
            return swept + second.log.read_text(errors="replace").count("outbound.reconciled")

        assert wait_until(lambda: reconciled() >= 2, timeout=10) and reconciled() == 2
        assert all(sent(case_id) == 1 for case_id in in_flight.values())
        assert all(p.status == "sent" for p in pages(db))
        assert sent(case) == 1  # the red flag of the kill: still once
        assert fake.violations == []
        assert "Traceback" not in second.log.read_text(errors="replace")


def test_a_page_twilio_took_before_the_kill_is_reconciled_not_sent_twice(tmp_path: Path) -> None:
    """Killed after Twilio accepted the page and before the row was marked sent: after the lease, the
    row is found in Twilio's list and marked sent with its SID; the nurse gets one page."""
    with ExitStack() as stack:
        database_url = stack.enter_context(fresh_database(tmp_path))
        fake = stack.enter_context(TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN))
        db = make_engine(database_url)
        stack.callback(db.dispose)
        upgrade(db)
        web = stack.enter_context(running(start_web(tmp_path, "web", database_url, fake)))
        fake.hold_next(1, operation="CreateMessage")  # Twilio takes the page; its answer never gets back
        for step, text_ in enumerate(RED_TEXTS):
            assert web.sms(text_, RED, sid(RED, step)).status_code == 200
        fake.wait_for(lambda: fake.holding == 1, timeout=10)
        [accepted] = fake.messages
        [page] = pages(db)
        assert (page.status, page.attempts) == ("sending", 1)
        kill_group(web.process)
        fake.release()

        later = create_app(sweeper_settings(database_url, fake), clock=lambda: utc_now() + LEASE + timedelta(seconds=1))
        sweeper: Services = later.extensions["triage"]
        stack.callback(sweeper.engine.dispose)
        assert sweeper.outbox.deliver() == 1
        assert [m["sid"] for m in fake.messages] == [accepted["sid"]]  # no second CreateMessage
        with db.connect() as connection:
            row = connection.execute(select(Message.status, Message.twilio_sid, Message.attempts)
                                     .where(Message.id == page.id)).one()
        assert tuple(row) == ("sent", accepted["sid"], 2)
        [lookup] = fake.lists
        assert (lookup["operation"], lookup["query"]["To"], lookup["query"]["From"]) == (
            "ListMessage", accepted["to"], CLINIC_NUMBER)
        assert fake.violations == []


def sweeper_settings(database_url: str, fake: TwilioFake) -> Settings:
    """The clock process's view of the same database (its outbox sweep, run by hand)."""
    return Settings(database_url=database_url, transport="twilio", twilio_account_sid=fake.account_sid,
                    twilio_auth_token=AUTH_TOKEN, twilio_phone_number=CLINIC_NUMBER,
                    twilio_api_base_url=fake.base_url, flows_dir=str(ROOT / "flows"),
                    roster_file=str(ROOT / "roster.example.yaml"), clinic_name="Test Spine Clinic",
                    clinic_phone=CLINIC_NUMBER, dispatch="inline", secret_key="test-secret", data_key=DATA_KEY,
                    auto_migrate=False,
                    run_clock=False)


# --- 2. The database unavailable -------------------------------------------------------------------

APP_NAME = "triage-faults"  # Postgres application_name of the app's connections: the outage ends only those


@pytest.fixture
def settings(settings: Settings) -> Settings:
    if not POSTGRES:
        return settings
    return replace(settings, database_url=f"{settings.database_url}&application_name={APP_NAME}")


@contextmanager
def database_down(svc: Services) -> Iterator[None]:
    """The database stops taking the app's work, as it does in a real outage.

    SQLite: another process holds the write lock (a backup, a long maintenance job) longer than the
    app will wait; the app's wait is cut from 15 s to 0.2 s so the test is quick.
    Postgres: every connection slot is gone (`too many connections`): the app's connections are
    terminated and new ones refused, until the limit is lifted.
    """
    if svc.engine.dialect.name == "sqlite":
        with _sqlite_locked(svc):
            yield
    else:
        with _postgres_refusing(svc.engine):
            yield


@contextmanager
def _sqlite_locked(svc: Services) -> Iterator[None]:
    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    event.listen(svc.engine, "connect", short_wait)
    svc.engine.dispose()
    holder = sqlite3.connect(svc.engine.url.database or "", isolation_level=None, timeout=5)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        event.remove(svc.engine, "connect", short_wait)
        svc.engine.dispose()


@contextmanager
def _admin(engine: Engine) -> Iterator[Any]:
    """A connection of the test's own, opened before the outage (it is not one of the app's)."""
    admin = make_engine(engine.url.set(query={k: v for k, v in engine.url.query.items() if k != "application_name"})
                        .render_as_string(hide_password=False)).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            yield connection
    finally:
        admin.dispose()


def _terminate_app_connections(connection: Any) -> int:
    return len(connection.execute(text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name AND datname = "
        "current_database() AND pid <> pg_backend_pid()"), {"name": APP_NAME}).all())


@contextmanager
def _postgres_refusing(engine: Engine) -> Iterator[None]:
    with _admin(engine) as connection:
        if connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")):
            pytest.skip("a superuser is not held to a connection limit: run as the app's own role")
        database = connection.scalar(text("SELECT current_database()"))
        limit = connection.scalar(text("SELECT datconnlimit FROM pg_database WHERE datname = current_database()"))
        connection.execute(text(f'ALTER DATABASE "{database}" CONNECTION LIMIT 0'))
        try:
            _terminate_app_connections(connection)
            yield
        finally:
            connection.execute(text(f'ALTER DATABASE "{database}" CONNECTION LIMIT {int(limit)}'))


def snapshot(svc: Services) -> dict[str, Any]:
    """Everything a webhook could write."""
    with svc.factory() as session:
        return {
            "patients": session.execute(select(Patient.phone, Patient.opted_out_at, Patient.language,
                                               Patient.privacy_notice_sent).order_by(Patient.id)).all(),
            "conversations": session.execute(select(Conversation.id, Conversation.node, Conversation.status,
                                                    Conversation.level, Conversation.state, Conversation.updated_at)
                                             .order_by(Conversation.id)).all(),
            "messages": session.execute(select(Message.direction, Message.kind, Message.status, Message.twilio_sid,
                                               Message.body).order_by(Message.id)).all(),
            "receipts": session.scalars(select(WebhookReceipt.key).order_by(WebhookReceipt.key)).all(),
            "escalations": session.scalar(select(func.count()).select_from(Escalation)),
            "events": session.scalar(select(func.count()).select_from(EscalationEvent)),
            "checkins": session.execute(select(Checkin.status, Checkin.due_at).order_by(Checkin.id)).all(),
        }


def voice_call(twilio: Twilio, frm: str) -> ET.Element:
    response = twilio.signed_post("/twilio/voice", {
        "CallSid": "CA" + "f" * 32, "AccountSid": "AC" + "0" * 32, "From": frm, "To": CLINIC_NUMBER,
        "Direction": "inbound", "CallStatus": "ringing", "ApiVersion": "2010-04-01"})
    assert response.status_code == 200
    return ET.fromstring(response.get_data(as_text=True))


def test_database_down_webhooks_answer_safely_and_write_nothing(app: Flask, twilio: Twilio, svc: Services,
                                                                twilio_fake: TwilioFake) -> None:
    play(twilio, "hello", "no")  # at the bladder question
    before = snapshot(svc)
    red_flag_sid = "SM" + "d" * 32
    with database_down(svc):
        reply = twilio.sms("yes", sid=red_flag_sid)  # the red flag, while nothing can be written
        assert reply.status == 200 and reply.texts == [fallback_text(svc)]
        assert "call the clinic at " + CLINIC_NUMBER in reply.text and "911" in reply.text

        call = voice_call(twilio, "+12125558010")
        said = " ".join(say.text or "" for say in call.iter("Say"))
        assert "call 911" in said and "call the clinic at " + CLINIC_NUMBER in said
        assert [dial.text for dial in call.iter("Dial")] == [NURSE_AVERY]  # the on-call nurse: roster in memory

        nurse = twilio.sms("ACK 1", frm=NURSE_AVERY)
        assert nurse.status == 200 and nurse.texts == [nurse_sms.FAILED]

        health = app.test_client().get("/healthz")
        assert health.status_code == 503 and health.get_json()["database"] == "unavailable"

    assert snapshot(svc) == before  # nothing half-written: no inbound row, no state, no receipt, no case
    assert twilio_fake.messages == []

    # The database is back: Twilio's retry of the failed webhook is taken, once.
    retried = twilio.sms("yes", sid=red_flag_sid)
    assert "emergency department now" in retried.text
    assert twilio.sms("yes", sid=red_flag_sid).text == retried.text
    [page] = twilio_fake.messages
    assert page["to"] == NURSE_AVERY and page["body"].startswith("URGENT case")
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in",
                                                                               Message.twilio_sid == red_flag_sid)) == 1
    # And the patient's next text is answered as usual.
    assert "nurse" in twilio.sms("is someone calling me?").text.lower()
    assert app.test_client().get("/healthz").status_code == 200
    assert twilio_fake.violations == []


@pytest.mark.skipif(not POSTGRES, reason="SQLite holds its one write lock from a transaction's start: "
                                         "no outage can strike between its writes")
def test_postgres_lost_mid_transaction_keeps_nothing(app: Flask, twilio: Twilio, svc: Services,
                                                     twilio_fake: TwilioFake) -> None:
    """The connection dies after the webhook wrote the inbound row, the new state, the case and its page,
    just before its commit."""
    play(twilio, "hello", "no")
    before = snapshot(svc)
    red_flag_sid = "SM" + "e" * 32
    replies: list[Any] = []
    with _admin(svc.engine) as connection:  # on the test's schema too (search_path)
        connection.execute(text("BEGIN"))
        # Reads go on; the receipt, the transaction's last write, waits: everything else is written by then.
        connection.execute(text("LOCK TABLE webhook_receipts IN EXCLUSIVE MODE"))
        webhook = threading.Thread(target=lambda: replies.append(twilio.sms("yes", sid=red_flag_sid)))
        webhook.start()
        blocked = text("SELECT pid FROM pg_stat_activity WHERE application_name = :name AND wait_event_type = "
                       "'Lock' AND backend_xid IS NOT NULL")  # waiting, with writes of its own already made
        pids: list[int] = []

        def webhook_blocked() -> bool:
            connection.execute(text("SELECT pg_stat_clear_snapshot()"))  # else one snapshot per transaction
            pids[:] = connection.scalars(blocked, {"name": APP_NAME}).all()
            return bool(pids)

        assert wait_until(webhook_blocked, timeout=4)
        written = connection.scalars(text(
            "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE l.pid = :pid AND l.granted "
            "AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'"), {"pid": pids[0]}).all()
        assert {"conversations", "messages", "escalations"} <= set(written)  # the case, its page, the new state
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        webhook.join(timeout=10)
        connection.execute(text("ROLLBACK"))
    [reply] = replies
    assert reply.status == 200 and reply.texts == [fallback_text(svc)]
    assert snapshot(svc) == before
    assert twilio_fake.messages == []
    retried = twilio.sms("yes", sid=red_flag_sid)
    assert "emergency department now" in retried.text
    assert len(twilio_fake.messages) == 1
