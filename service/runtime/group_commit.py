"""SQLite: the inputs waiting for the process's one connection are written in one transaction, one commit.

A SQLite file has one writer at a time, so a process's webhooks queue for its connection and each pays a
writer's turn of its own: the turn handed over (sqlite_writer.py), BEGIN IMMEDIATE, the commit's fsync.
At saturation that turn, not the cores, set the throughput (bench/load.py: 1.1 of the 2 cores used).
Here the thread that gets the connection (the leader) takes every input queued behind it as well, up to
`most`, and runs each in a savepoint of one transaction: one turn and one fsync for all of them. Each
input is as isolated as before: one that fails rolls back its savepoint alone and its own thread sees the
error (a lost race is retried by the envelope as before); none is answered before the commit that makes
it durable, and a failed commit fails every input of the batch (nothing of theirs was written). A batch is
first written without savepoints (a savepoint's SAVEPOINT, RELEASE and the ORM's nested-transaction upkeep
were a fifth of the writer's time per input, bench/load.py); only if an input fails is that transaction
rolled back and the batch written again, each input in its savepoint (its body runs twice then). With no
queue (a quiet line, the tests' one request at a time) a batch is one input and runs exactly as before,
without a savepoint. A page waiting for the file (sqlite_writer.py) cuts a batch short: what is done is
committed, the rest goes first to the next leader. Each input's body runs in its own thread's context
(contextvars: its request id on its log lines and rows, Flask's request), only on the leader's thread.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from ..db import transaction
from ..outbox.outbound import savepoint

T = TypeVar("T")
MOST_PER_COMMIT = 16  # a bound on a batch's latency: each input in it waits for every one of them


@dataclass(eq=False)
class _Input(Generic[T]):
    body: Callable[[Session], T]
    context: contextvars.Context = field(default_factory=contextvars.copy_context)
    done: bool = False
    answer: T | None = None
    error: BaseException | None = None

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.answer  # type: ignore[return-value]


class GroupCommit:
    def __init__(self, factory: sessionmaker[Session], most: int = MOST_PER_COMMIT) -> None:
        self._factory = factory
        self._most = most
        self._queue: list[_Input[object]] = []
        self._changed = threading.Condition()
        self._leading = False

    @property
    def waiting(self) -> int:
        """Inputs queued for the next batch."""
        with self._changed:
            return len(self._queue)

    def run(self, body: Callable[[Session], T]) -> T:
        """Run `body` in a transaction (maybe shared, in a savepoint of its own) and return what it returned
        once that transaction is committed."""
        mine: _Input[T] = _Input(body)
        with self._changed:
            self._queue.append(mine)  # type: ignore[arg-type]
            while self._leading and not mine.done:
                self._changed.wait()
            if mine.done:  # a leader wrote it
                return mine.outcome()
            self._queue.remove(mine)  # type: ignore[arg-type]
            batch: list[_Input[object]] = [mine, *self._queue[:self._most - 1]]  # type: ignore[list-item]
            del self._queue[:self._most - 1]
            self._leading = True
        try:
            left = self._write(batch)
        finally:
            with self._changed:
                if left:  # not reached (a page waits for the writer): first in line for the next leader
                    self._queue[:0] = left
                self._leading = False
                self._changed.notify_all()
        return mine.outcome()

    def _write(self, batch: list[_Input[object]]) -> list[_Input[object]]:
        """Write the batch, or the start of it if an urgent writer asks for the file: returns the rest."""
        if len(batch) > 1:
            try:
                return self._commit(batch, _unguarded)
            except _Unguarded:  # rolled back, nothing written: again, each input in its savepoint
                pass
        return self._commit(batch, _in_savepoint if len(batch) > 1 else _alone)

    def _commit(self, batch: list[_Input[object]], run: Callable[[Session, _Input[object]], None]
                ) -> list[_Input[object]]:
        """One transaction for the batch, each input through `run`, cut short when a page waits; returns the
        inputs not reached. Raises _Unguarded (nothing written, none answered) when an unguarded input fails."""
        done: list[_Input[object]] = batch
        try:
            with transaction(self._factory) as session:
                for index, item in enumerate(batch):
                    if index and _urgent_waiting(session):
                        done = batch[:index]
                        break
                    run(session, item)
        except _Unguarded:
            for item in batch:
                item.answer = None
            raise
        except BaseException as error:  # not committed: nothing of any of them was written
            for item in done:
                item.answer, item.error = None, item.error or error
        for item in done:
            item.done = True
        return batch[len(done):]


class _Unguarded(Exception):
    """An input of a batch written without savepoints failed: the batch is written again with them."""


def _alone(session: Session, item: _Input[object]) -> None:
    """The only input of its transaction: its failure is the transaction's."""
    item.answer = item.context.run(item.body, session)


def _unguarded(session: Session, item: _Input[object]) -> None:
    try:
        item.answer = item.context.run(item.body, session)
    except Exception as error:
        raise _Unguarded from error  # out of the transaction: it rolls back


def _urgent_waiting(session: Session) -> bool:
    """A page waits for SQLite's writer (sqlite_writer.py): commit what is done and let it go first."""
    driver = session.connection().connection.driver_connection
    waiting = getattr(driver, "urgent_waiting", None)
    return bool(waiting is not None and waiting())


def _in_savepoint(session: Session, item: _Input[object]) -> None:
    try:
        with savepoint(session):
            item.answer = item.context.run(item.body, session)
    except Exception as error:
        item.error = error
