"""Pages before routine work (#22 item 3): a page is claimed before any due check-in, reply or relay,
and it has a lane of its own (the web process's dispatch threads, the clock's `outbox_pages` sweep),
so a slow batch of routine sends never sits in front of it. The order is observed at the Twilio fake;
"slow" is a transport holding routine sends on an Event, with real threads, not a timing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from service import create_app
from service.db import transaction
from service.features import jobs
from service.models import Message
from service.outbox.outbound import lanes, queue_sms, queued_in
from service.outbox.transports import TwilioTransport
from service.services import Services
from service.settings import Settings
from tests.conftest import NURSE_AVERY, FakeClock, Twilio, play, services

BACKLOG = 30
RED_FLAG = "I passed out this morning"  # pages the on-call nurse (NURSE_AVERY)


def patient_phone(n: int) -> str:
    return f"+1212555{2000 + n:04d}"


def queue_backlog(svc: Services, clock: FakeClock, n: int = BACKLOG) -> list[int]:
    """Due check-ins and replies to other patients, committed; returns what the transaction queued."""
    with transaction(svc.factory) as session:
        for i in range(n):
            queue_sms(session, to=patient_phone(i), body=f"routine {i}", kind="checkin" if i % 2 else "reply",
                      now=clock())
        return queued_in(session)


def queue_page(svc: Services, clock: FakeClock) -> int:
    with transaction(svc.factory) as session:
        return queue_sms(session, to=NURSE_AVERY, body="URGENT case 1: call the patient", kind="page",
                         now=clock()).id


def test_a_page_queued_after_a_backlog_is_handed_to_twilio_first(svc: Services, clock: FakeClock,
                                                                  twilio_fake) -> None:  # type: ignore[no-untyped-def]
    queue_backlog(svc, clock)
    clock.advance(seconds=30)  # the backlog has waited; the page is the newest due row
    queue_page(svc, clock)
    assert svc.outbox.deliver() == BACKLOG + 1
    sent = twilio_fake.messages
    assert sent[0]["to"] == NURSE_AVERY and sent[0]["body"].startswith("URGENT")
    assert [m["body"] for m in sent[1:]] == [f"routine {i}" for i in range(BACKLOG)]  # then oldest first
    assert twilio_fake.violations == []


def test_the_page_sweep_sends_pages_only(svc: Services, clock: FakeClock, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    queue_backlog(svc, clock, 5)
    queue_page(svc, clock)
    [pages_job] = [job for job in jobs() if job.name == "outbox_pages"]
    assert pages_job.run(svc) == 1
    assert [m["to"] for m in twilio_fake.messages] == [NURSE_AVERY]
    with svc.factory() as session:
        assert set(session.scalars(select(Message.status).where(Message.kind != "page"))) == {"queued"}


def test_a_turn_queues_its_page_first_and_in_the_urgent_lane(svc: Services, clock: FakeClock,
                                                              twilio_fake) -> None:  # type: ignore[no-untyped-def]
    with transaction(svc.factory) as session:
        relay = queue_sms(session, to=patient_phone(1), body="a relay", kind="relay", now=clock()).id
        page = queue_sms(session, to=NURSE_AVERY, body="URGENT case 2", kind="page", now=clock()).id
        queued = queued_in(session)
    assert list(queued) == [page, relay]
    assert lanes(queued) == ([page], [relay])
    assert lanes([relay, page]) == ([], [relay, page])  # plain ids, of unknown kind: routine
    svc.dispatch(queued)  # inline (the test settings): one after the other, the page first
    assert [m["to"] for m in twilio_fake.messages] == [NURSE_AVERY, patient_phone(1)]


class HeldRoutine(TwilioTransport):
    """The real Twilio transport, but every text to anyone other than the nurse waits for `go`."""

    def __init__(self, settings: Settings):
        super().__init__(settings)
        self.go = threading.Event()
        self.holding = threading.Event()  # a routine send is stuck here

    def send_sms(self, to: str, body: str) -> str:
        if to != NURSE_AVERY:
            self.holding.set()
            assert self.go.wait(20), "the test never let routine sends go"
        return super().send_sms(to, body)


@pytest.fixture
def held(settings: Settings, clock: FakeClock) -> Iterator[tuple[Services, HeldRoutine, Twilio]]:
    """The web process's background dispatch with ONE thread per lane, routine sends held."""
    background = replace(settings, dispatch="background", outbox_threads=1)
    transport = HeldRoutine(background)
    app = create_app(background, clock=clock, transport=transport)
    try:
        yield services(app), transport, Twilio(app.test_client())
    finally:
        transport.go.set()
        services(app).shutdown()
        services(app).engine.dispose()


def test_a_slow_batch_of_routine_sends_does_not_delay_a_page(held, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    svc, transport, twilio = held
    svc.dispatch(queue_backlog(svc, svc.clock, 5))  # after its commit, as a clock batch or a webhook would
    assert transport.holding.wait(10)  # the routine lane's only thread is stuck in a slow send
    play(twilio, RED_FLAG)  # the red flag's page is dispatched after its commit
    twilio_fake.wait_for(lambda: any(m["to"] == NURSE_AVERY for m in twilio_fake.messages), timeout=10)
    assert [m["to"] for m in twilio_fake.messages] == [NURSE_AVERY]  # nothing routine has gone yet
    transport.go.set()
    twilio_fake.wait_for(6, timeout=10)
    assert twilio_fake.violations == []


def test_the_page_sweep_does_not_wait_for_a_slow_routine_sweep(held, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    svc, transport, _ = held
    queue_backlog(svc, svc.clock, 3)
    sweep = threading.Thread(target=svc.outbox.deliver)  # the clock's routine sweep, stuck on its first send
    sweep.start()
    try:
        assert transport.holding.wait(10)
        queue_page(svc, svc.clock)  # falls due while that sweep is busy
        [pages_job] = [job for job in jobs() if job.name == "outbox_pages"]
        assert pages_job.run(svc) == 1
        assert [m["to"] for m in twilio_fake.messages] == [NURSE_AVERY]
    finally:
        transport.go.set()
        sweep.join(10)
    assert len(twilio_fake.messages) == 4
