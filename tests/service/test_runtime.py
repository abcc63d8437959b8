"""The one runtime envelope: receipts, the retry after a lost race, sending only what a turn queued,
and the table from engine action to handler."""

from __future__ import annotations

from typing import get_args

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from service.db import transaction
from service.engine.state import Action
from service.features import FEATURES, jobs, timers
from service.models import Message, WebhookReceipt
from service.outbox.outbound import queue_sms
from service.runtime.actions import HANDLERS
from service.runtime.envelope import Codec, Turn, run, run_each
from service.services import Services
from tests.conftest import PATIENT

TEXT = Codec[str](lambda answer: answer, lambda raw: raw)


def test_every_engine_action_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(get_args(Action))


def test_a_repeated_input_answers_from_its_receipt_and_does_nothing_twice(svc: Services) -> None:
    calls: list[int] = []

    def work(turn: Turn[str]) -> str:
        calls.append(1)
        queue_sms(turn.session, to=PATIENT, body="once", kind="reply", now=turn.now)
        return f"answer {len(calls)}"

    assert run(svc, work, key="test:1", codec=TEXT, phone=PATIENT) == "answer 1"
    assert run(svc, work, key="test:1", codec=TEXT, phone=PATIENT) == "answer 1"
    assert len(calls) == 1
    with svc.factory() as session:
        assert session.scalars(select(Message.body)).all() == ["once"]  # (bodies are sealed: no SQL filter on them)


def test_a_lost_race_is_retried_once_from_the_start(svc: Services) -> None:
    attempts: list[int] = []

    def work(turn: Turn[str]) -> str:
        attempts.append(1)
        queue_sms(turn.session, to=PATIENT, body=f"attempt {len(attempts)}", kind="reply", now=turn.now)
        if len(attempts) == 1:
            raise StaleDataError("the conversation moved on under this turn")
        return "done"

    assert run(svc, work, key="test:race", codec=TEXT, phone=PATIENT) == "done"
    with svc.factory() as session:
        # The first attempt rolled back whole: its text was never stored, so never sent.
        assert session.scalars(select(Message.body).where(Message.kind == "reply")).all() == ["attempt 2"]
        assert session.scalar(select(WebhookReceipt.response).where(WebhookReceipt.key == "test:race")) == "done"


def test_two_lost_races_give_up_rather_than_loop(svc: Services) -> None:
    def work(turn: Turn[str]) -> str:
        raise StaleDataError("always")

    with pytest.raises(StaleDataError):
        run(svc, work, key="test:lost", codec=TEXT)


def test_a_turn_sends_only_what_it_queued(svc: Services, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    with transaction(svc.factory) as session:  # due, but left for the outbox's own sweep
        queue_sms(session, to=PATIENT, body="someone else's", kind="reply", now=svc.clock())

    run(svc, lambda turn: queue_sms(turn.session, to=PATIENT, body="this turn's", kind="reply", now=turn.now).id)
    assert [m["body"] for m in twilio_fake.messages] == ["this turn's"]
    with svc.factory() as session:
        statuses = dict(session.execute(select(Message.body, Message.status)).all())
        assert statuses["someone else's"] == "queued"


def test_a_failing_item_in_a_clock_batch_holds_back_no_other(svc: Services, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    def work(turn: Turn[int], item: int) -> int:
        queue_sms(turn.session, to=PATIENT, body=f"item {item}", kind="reply", now=turn.now)
        if item == 2:
            raise RuntimeError("a bad row")
        return item

    assert run_each(svc, [1, 2, 3], work) == [1, 3]
    assert sorted(m["body"] for m in twilio_fake.messages) == ["item 1", "item 3"]
    with svc.factory() as session:
        assert sorted(session.scalars(select(Message.body).where(Message.kind == "reply"))) == ["item 1", "item 3"]


def test_every_clock_job_says_which_timers_it_polls() -> None:
    names = [job.name for job in jobs()]
    assert len(names) == len(set(names)) and {"outbox", "silence", "checkins", "escalations"} <= set(names)
    # The conversation tests' `wait:` jumps between these. The spool's job polls a file (SPOOL_DIR), not a
    # column: a conversation test never has an outage to replay, so there is nothing for `wait:` to reach.
    assert all(job.timers for job in jobs() if job.name != "spool")
    assert [job.timers for job in jobs() if job.name == "spool"] == [()]
    assert len(timers()) == sum(len(job.timers) for job in jobs())
    assert len({feature.name for feature in FEATURES}) == len(FEATURES)
