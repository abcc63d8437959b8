"""Everything a request, a CLI command or the clock needs, built once per app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .db import make_engine, make_session_factory, one_connection
from .escalation.roster import Roster
from .escalation.roster_store import RosterStore
from .flowstore import FlowStore
from .outbox.outbound import Outbox, lanes
from .runtime.group_commit import GroupCommit
from .settings import Settings

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    flows: FlowStore
    rosters: RosterStore  # ROSTER_FILE, read again when it changes
    outbox: Outbox
    clock: Callable[[], datetime] = utc_now
    _executors: dict[str, ThreadPoolExecutor] = field(default_factory=dict, repr=False)
    _executor_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _page_engine: Engine | None = field(default=None, repr=False)
    _page_factory: sessionmaker[Session] | None = field(default=None, repr=False)
    # SQLite: the inputs queued for the process's one connection share a transaction (runtime/group_commit.py)
    group_commit: GroupCommit | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.group_commit is None and one_connection(self.engine):
            self.group_commit = GroupCommit(self.factory)

    def page_sessions(self) -> sessionmaker[Session]:
        """Sessions for the page lane. SQLite: on a connection of its own, made at the first page, so a
        page's claim waits for no webhook queued for the process's one connection, only for its turn at
        the file's writer (sqlite_writer.py) among the processes' connections. Postgres: the one pool,
        which has a connection for every thread."""
        if not one_connection(self.engine):
            return self.factory
        with self._executor_lock:
            if self._page_factory is None:
                self._page_engine = make_engine(self.settings.database_url, self.settings.keyring(), urgent=True)
                self._page_factory = make_session_factory(self._page_engine)
            return self._page_factory

    @property
    def roster(self) -> Roster:
        """The roster as it is now (an edited ROSTER_FILE is read at the next use)."""
        return self.rosters.current()

    @property
    def context(self) -> dict[str, str]:
        return self.settings.context

    def dispatch(self, ids: list[int] | None = None) -> None:
        """Send what the last transaction queued (`ids`; None: every due row): now (inline) or on
        OUTBOX_THREADS worker threads (background), so that in a surge of red flags the pages go out
        side by side instead of one after another.

        Two lanes of threads: pages and the other case alerts in one, everything else in the other, so
        a page is never queued behind a slow batch of replies, relays or notices. Either way the rows
        are already committed, so the clock's sweep retries anything missed.
        """
        if self.settings.dispatch == "inline":
            self._deliver(ids)  # a turn's ids come urgent first (outbound.queued_in)
            return
        if ids is None:
            self._lane("urgent").submit(self._deliver, None, True, True)
            self._lane("routine").submit(self._deliver, None)
            return
        urgent, routine = lanes(ids)
        if urgent:
            self._lane("urgent").submit(self._deliver, urgent, False, True)
        if routine:
            self._lane("routine").submit(self._deliver, routine)

    def _lane(self, name: str) -> ThreadPoolExecutor:
        with self._executor_lock:  # request threads dispatch at once: one pool per lane per process
            executor = self._executors.get(name)
            if executor is None:
                executor = self._executors[name] = ThreadPoolExecutor(
                    max_workers=self.settings.outbox_threads, thread_name_prefix=f"outbox-{name}")
            return executor

    def _deliver(self, ids: list[int] | None = None, urgent_only: bool = False, page_lane: bool = False) -> None:
        try:
            self.outbox.deliver(ids, urgent_only=urgent_only, page_lane=page_lane)
        except Exception:  # the sweep will pick the rows up again; never crash the request thread
            log.exception("outbox.deliver_failed")

    def shutdown(self) -> None:
        with self._executor_lock:
            executors, self._executors = list(self._executors.values()), {}
        for executor in executors:
            executor.shutdown(wait=True)
        if self._page_engine is not None:
            self._page_engine.dispose()
