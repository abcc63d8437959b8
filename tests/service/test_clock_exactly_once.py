"""Two clock workers at once on one database (Postgres when the suite runs on it): each check-in once.

Two app instances stand in for two `clock` processes: separate engines and connection pools, one
database. They start together and each runs the clock's jobs in a loop until nothing is left.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from service import create_app
from service.checkins import sender
from service.clock import tick
from service.db import transaction
from service.engine.flow import Level
from service.engine.state import DONE, State
from service.models import Checkin, Conversation, Message, Patient
from service.services import Services

CHECKINS = 150


def phone(i: int) -> str:
    return f"+1212555{2000 + i:04d}"


def seed(svc: Services, count: int) -> None:
    """Home-care patients whose 24-hour check-in is due now or overdue by up to an hour."""
    now = svc.clock()
    loaded = svc.flows.current()
    state = State(status=DONE, outcome="out_home_care", level=Level.home_care, privacy_notice_sent=True)
    with transaction(svc.factory) as session:
        svc.flows.remember(session, loaded, now)
        for i in range(count):
            patient = Patient(phone=phone(i), language="en", privacy_notice_sent=True, created_at=now)
            session.add(patient)
            session.flush()
            started = now - timedelta(hours=24, minutes=i % 60)
            conversation = Conversation(patient_id=patient.id, flow_id=loaded.flow.id, flow_version=loaded.version,
                                        channel="sms", state=state.to_json(), status=DONE, outcome="out_home_care",
                                        level="home_care", disposition="self_care", started_at=started,
                                        updated_at=started)
            session.add(conversation)
            session.flush()
            session.add(Checkin(patient_id=patient.id, conversation_id=conversation.id, ask="ci_how_are_you",
                                due_at=started + timedelta(hours=24), status="pending", created_at=started))


def pending(svc: Services) -> int:
    with svc.factory() as session:
        return session.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending")) or 0


def test_two_clocks_send_each_checkin_exactly_once(app, settings, clock, twilio_fake, monkeypatch) -> None:
    first: Services = app.extensions["triage"]
    other = create_app(settings, clock=clock)
    second: Services = other.extensions["triage"]
    seed(first, CHECKINS)
    start = threading.Barrier(2)

    # The race that matters: both clocks have claimed due rows, each in its batch's transaction, before
    # either commits: on Postgres they hold their claims at the same moment here, so a claim that did not
    # lock (FOR UPDATE SKIP LOCKED) would hand both the same rows. SQLite's single writer cannot get there:
    # the second clock's transaction waits for the first's commit (waiting here would deadlock them).
    due = sender._due
    both_claimed = threading.Barrier(2)
    first_claims: dict[str, set[int]] = {}

    def due_then_wait(session, now, after):  # type: ignore[no-untyped-def]
        rows = due(session, now, after)
        if session.get_bind().dialect.name == "postgresql" and threading.current_thread().name not in first_claims:
            first_claims[threading.current_thread().name] = {checkin_id for _, checkin_id in rows}
            both_claimed.wait(timeout=60)
        return rows

    monkeypatch.setattr(sender, "_due", due_then_wait)
    errors: list[BaseException] = []
    rounds = Counter[str]()

    def worker(name: str, svc: Services) -> None:
        try:
            start.wait()
            for _ in range(200):
                tick(svc)
                rounds[name] += 1
                if pending(svc) == 0:
                    tick(svc)  # the outbox: anything the other worker queued and has not sent yet
                    return
        except BaseException as error:  # noqa: B036 - reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(name, svc), name=f"clock-{name}")
               for name, svc in (("a", first), ("b", second))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads)
        assert errors == []
    finally:
        second.shutdown()
        second.engine.dispose()

    if first_claims:  # Postgres: both held a batch at once, and not the same rows
        a, b = first_claims.values()
        assert a and b and not a & b

    with first.factory() as session:
        statuses = Counter(session.scalars(select(Checkin.status)))
        per_checkin = Counter(session.scalars(select(Message.checkin_id).where(Message.kind == "checkin")))
        undelivered = session.scalar(select(func.count()).select_from(Message)
                                     .where(Message.direction == "out", Message.status != "sent"))
    assert statuses == {"sent": CHECKINS}
    assert len(per_checkin) == CHECKINS and set(per_checkin.values()) == {1}
    assert undelivered == 0
    sent_to = Counter(m["to"] for m in twilio_fake.messages)
    assert sent_to == {phone(i): 1 for i in range(CHECKINS)}
    assert all("checking in" in m["body"] for m in twilio_fake.messages)
    assert twilio_fake.violations == []
