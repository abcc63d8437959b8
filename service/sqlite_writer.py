"""SQLite's one writer, handed from process to process in turn instead of by SQLite's busy handler.

Every transaction takes SQLite's write lock (db.py: BEGIN IMMEDIATE). Within a process the engine's
one pooled connection already queues the threads. Between processes (two web workers, the clock)
SQLite makes a waiting writer poll with sleeps of 1, 2, 5 ... up to 100 ms, so the process that just
committed, whose next thread is ready at once, takes the lock again and again while the other sleeps:
at saturation one worker answered most webhooks and the service used one of the two cores, and a
webhook that lost the race waited a second (bench/load.py). Here a connection first takes an exclusive
flock on a file beside the database, behind a queue lock: the next writer holds the queue lock while it
waits, so the process that just wrote queues behind it and the processes take turns; a waiter looks
every millisecond at most. This only orders writers: SQLite's own lock still guards the data, and a
writer that cannot get its turn within the busy timeout goes ahead and waits in SQLite as before.
flock is released when a process dies (the soak's SIGKILLs), so a killed writer never holds the turn.

A thread that already holds the turn for the same file through another engine does not wait for it
again (it would wait on itself): that nesting is left to SQLite's busy handler.

Pages go first: the page lane's connection (UrgentWriterConnection) holds a third lock while it waits, and
routine writers do not join the queue while that lock is held, so a page waits for the writers already
queued (at most one per process) and not for the stream of webhooks behind them. Without it, with the
webhooks written in batches (runtime/group_commit.py), a page at saturation waited seconds for its turn
(bench/load.py --red-flag-share 1: median 8.7 s from the reply to the page).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

TURN_TIMEOUT_S = 15.0  # as SQLite's busy timeout (db.py): past it, SQLite's own wait takes over
_FIRST_LOOK_S, _LONGEST_LOOK_S = 0.0002, 0.001
_held = threading.local()  # the database files whose turn this thread holds: nesting falls back


class _FileLock:
    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self, deadline: float, shared: bool = False) -> bool:
        pause = _FIRST_LOOK_S
        while True:
            try:
                fcntl.flock(self.fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(2 * pause, _LONGEST_LOOK_S)

    def release(self) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self.fd)


def _paths_held() -> set[str]:
    return _held.__dict__.setdefault("paths", set())


class WriterLockedConnection(sqlite3.Connection):
    """A pysqlite connection that waits for its process's turn to write before BEGIN IMMEDIATE
    (take_writer_turn) and gives the turn back when its transaction ends (commit, rollback, close)."""

    urgent = False  # UrgentWriterConnection: the page lane

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        name = os.fsdecode(database)
        self._path = os.path.abspath(name) if name and name != ":memory:" and not name.startswith("file:") else None
        self._writer = _FileLock(self._path + "-writer.lock") if self._path else None
        self._queue = _FileLock(self._path + "-queue.lock") if self._path else None
        self._urgent = _FileLock(self._path + "-urgent.lock") if self._path else None
        self._holding = False

    def take_writer_turn(self) -> None:
        if (self._writer is None or self._queue is None or self._urgent is None or self._holding
                or self._path in _paths_held()):
            return
        deadline = time.monotonic() + TURN_TIMEOUT_S
        # An urgent writer holds the urgent lock (exclusively, among urgent ones) until it has the turn; a
        # routine one waits while any does (a shared lock it can take only when none holds it).
        if not self._urgent.acquire(deadline, shared=not self.urgent):
            return
        if not self.urgent:
            self._urgent.release()
        try:
            if not self._queue.acquire(deadline):
                return
            try:
                self._holding = self._writer.acquire(deadline)
            finally:
                self._queue.release()
        finally:
            if self.urgent:
                self._urgent.release()
        if self._holding:
            _paths_held().add(self._path)  # type: ignore[arg-type]

    def urgent_waiting(self) -> bool:
        """Whether an urgent writer (a page) waits for the turn this connection holds."""
        if self._urgent is None or not self._holding:
            return False
        if not self._urgent.acquire(deadline=0.0, shared=True):  # one look, no wait
            return True
        self._urgent.release()
        return False

    def give_back_writer_turn(self) -> None:
        if self._holding and self._writer is not None:
            self._holding = False
            _paths_held().discard(self._path)  # type: ignore[arg-type]
            self._writer.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.give_back_writer_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.give_back_writer_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.give_back_writer_turn()
            for lock in (self._writer, self._queue, self._urgent):
                if lock is not None:
                    lock.close()
            self._writer = self._queue = self._urgent = None


class UrgentWriterConnection(WriterLockedConnection):
    """The page lane's connection: its writes go ahead of the webhooks queued behind the current writer."""

    urgent = True
