"""Inputs queued for SQLite's one connection share a transaction and its commit (runtime/group_commit.py),
each in a savepoint of its own: one that fails is rolled back alone and its own thread sees the error; a
commit that fails fails all of them; each runs in its own thread's context. A batch is tried first without
savepoints and written again with them only when one of its inputs fails. Played on the test's real
database (SQLite, or Postgres with DATABASE_URL: savepoints are the same there).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from service.db import make_engine
from service.models import WebhookReceipt
from service.runtime.conversation import store_receipt
from service.runtime.group_commit import GroupCommit, _Input
from service.services import Services

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WHO = contextvars.ContextVar("who", default="nobody")


class Refused(Exception):
    pass


def receipt_writer(key: str, refuse: bool = False) -> Callable[[Session], str]:
    def body(session: Session) -> str:
        store_receipt(session, key, f"written by {WHO.get()}", NOW)
        if refuse:
            raise Refused(key)
        return WHO.get()
    return body


def keys_written(svc: Services) -> set[str]:
    with svc.factory() as session:
        return set(session.scalars(select(WebhookReceipt.key)))


def commits_counted(svc: Services) -> list[int]:
    counted = [0]
    event.listen(svc.engine, "commit", lambda _connection: counted.__setitem__(0, counted[0] + 1))
    return counted


def queue_behind_a_held_leader(group: GroupCommit, bodies: dict[str, Callable[[Session], str]]) -> dict[str, object]:
    """The first input holds the transaction until every other one is queued behind it, so those form a
    batch of their own (what a burst of webhooks does to a busy process). Returns each input's outcome."""
    release, leading = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def leader(session: Session) -> str:
        store_receipt(session, "sms:leader", "first", NOW)
        leading.set()
        assert release.wait(10)
        return "leader"

    def submit(name: str, body: Callable[[Session], str]) -> None:
        WHO.set(name)
        try:
            outcomes[name] = group.run(body)
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[name] = error

    threads = [threading.Thread(target=submit, args=("leader", leader))]
    threads[0].start()
    assert leading.wait(10)
    for name, body in bodies.items():
        threads.append(threading.Thread(target=submit, args=(name, body)))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while group.waiting < len(bodies):
        assert time.monotonic() < deadline, "the inputs never queued"
        time.sleep(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    return outcomes


def test_inputs_queued_behind_the_leader_share_one_commit_and_a_failure_is_rolled_back_alone(svc: Services) -> None:
    group, commits = GroupCommit(svc.factory), commits_counted(svc)
    outcomes = queue_behind_a_held_leader(group, {
        "ana": receipt_writer("sms:ana"), "bo": receipt_writer("sms:bo", refuse=True), "cy": receipt_writer("sms:cy")})
    assert outcomes["leader"] == "leader"
    assert outcomes["ana"] == "ana" and outcomes["cy"] == "cy"  # each ran in its own thread's context
    assert isinstance(outcomes["bo"], Refused)
    assert keys_written(svc) == {"sms:leader", "sms:ana", "sms:cy"}  # bo's row went with its savepoint
    assert commits[0] == 2  # the leader's own, then one for the three queued behind it
    with svc.factory() as session:
        assert session.scalars(select(WebhookReceipt.response).where(WebhookReceipt.key == "sms:ana")).one() \
            == "written by ana"


def counted_writer(ran: list[str], key: str, refuse: bool = False) -> Callable[[Session], str]:
    write = receipt_writer(key, refuse)

    def body(session: Session) -> str:
        ran.append(key)
        return write(session)
    return body


def test_a_batch_that_succeeds_is_written_once_without_savepoints(svc: Services) -> None:
    group, statements, ran = GroupCommit(svc.factory), [], []
    event.listen(svc.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    outcomes = queue_behind_a_held_leader(group, {"ana": counted_writer(ran, "sms:ana"),
                                                  "bo": counted_writer(ran, "sms:bo")})
    assert outcomes == {"leader": "leader", "ana": "ana", "bo": "bo"}
    assert not any("SAVEPOINT" in sql.upper() for sql in statements)
    assert sorted(ran) == ["sms:ana", "sms:bo"]  # each body once
    assert keys_written(svc) == {"sms:leader", "sms:ana", "sms:bo"}


def test_a_batch_with_a_failure_is_written_again_each_input_in_its_savepoint(svc: Services) -> None:
    group, statements, ran = GroupCommit(svc.factory), [], []
    event.listen(svc.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    outcomes = queue_behind_a_held_leader(group, {"cy": counted_writer(ran, "sms:cy"),
                                                  "dee": counted_writer(ran, "sms:dee", refuse=True),
                                                  "eve": counted_writer(ran, "sms:eve")})
    assert outcomes["cy"] == "cy" and outcomes["eve"] == "eve" and isinstance(outcomes["dee"], Refused)
    assert any("SAVEPOINT" in sql.upper() for sql in statements)  # the second try, each input guarded
    # dee ran on the first try and again in its savepoint; an input queued behind dee ran once (its turn
    # never came on the first try), one before it twice (the rows of its first run were rolled back)
    assert ran.count("sms:dee") == 2 and {ran.count("sms:cy"), ran.count("sms:eve")} <= {1, 2}
    assert keys_written(svc) == {"sms:leader", "sms:cy", "sms:eve"}  # nothing of dee's, the others' once


def test_a_commit_that_fails_fails_every_input_of_its_batch_and_writes_none(svc: Services) -> None:
    group = GroupCommit(svc.factory)

    @event.listens_for(Session, "before_commit")
    def refuse_the_batch(session: Session) -> None:  # the outer commit (it runs at each savepoint's end too)
        if not session.in_nested_transaction() and "sms:ana" in set(session.scalars(select(WebhookReceipt.key))):
            raise Refused("the disk is full")

    try:
        outcomes = queue_behind_a_held_leader(group, {"ana": receipt_writer("sms:ana"), "bo": receipt_writer("sms:bo")})
    finally:
        event.remove(Session, "before_commit", refuse_the_batch)
    assert outcomes["leader"] == "leader"
    assert isinstance(outcomes["ana"], Refused) and isinstance(outcomes["bo"], Refused)
    assert keys_written(svc) == {"sms:leader"}  # neither answered as done, neither written


def test_an_input_alone_runs_in_a_transaction_of_its_own_without_a_savepoint(svc: Services) -> None:
    group, statements = GroupCommit(svc.factory), []
    event.listen(svc.engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    WHO.set("alone")
    assert group.run(receipt_writer("sms:alone")) == "alone"
    assert not any("SAVEPOINT" in sql.upper() for sql in statements)
    assert keys_written(svc) == {"sms:alone"}
    with pytest.raises(Refused):
        group.run(receipt_writer("sms:refused", refuse=True))
    assert keys_written(svc) == {"sms:alone"}


def test_the_service_on_sqlite_groups_its_inputs_and_on_postgres_does_not(svc: Services) -> None:
    assert (svc.group_commit is not None) == (svc.engine.dialect.name == "sqlite")


def test_a_page_waiting_for_the_file_cuts_a_batch_short_and_goes_next(svc: Services) -> None:
    if svc.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's one writer: Postgres writes side by side")
    group, commits, ran = GroupCommit(svc.factory), commits_counted(svc), []
    pages = make_engine(svc.settings.database_url, urgent=True)

    def write_page() -> None:
        with Session(pages) as session, session.begin():
            store_receipt(session, "sms:page", "page", NOW)
            ran.append("page")

    page = threading.Thread(target=write_page)

    def ana_then_a_page(session: Session) -> str:
        store_receipt(session, "sms:ana", "ana", NOW)
        ran.append("ana")
        page.start()  # the page lane asks for the file while this batch holds it
        driver = session.connection().connection.driver_connection
        deadline = time.monotonic() + 10
        while not driver.urgent_waiting():
            assert time.monotonic() < deadline, "the page never queued"
            time.sleep(0.001)
        return "ana"

    def noted(name: str) -> Callable[[Session], str]:
        def body(session: Session) -> str:
            answer = receipt_writer(f"sms:{name}")(session)  # written: this transaction has the file
            ran.append(name)
            return answer
        return body

    batch = [_Input(ana_then_a_page), _Input(noted("bo")), _Input(noted("cy"))]
    left = group._write(batch)  # type: ignore[arg-type]  # one batch, in the order it was queued
    assert left == batch[1:] and batch[0].done and batch[0].outcome() == "ana"
    assert not any(item.done for item in left)  # not run: first in line for the next leader (run() puts them back)
    page.join(10)
    assert group._write(left) == []  # type: ignore[arg-type]
    assert ran == ["ana", "page", "bo", "cy"]  # the page went before the rest of the batch
    assert commits[0] == 2  # ana's, cut short; then bo's and cy's (the page's own engine is not counted)
    assert keys_written(svc) == {"sms:ana", "sms:page", "sms:bo", "sms:cy"}
    pages.dispose()
