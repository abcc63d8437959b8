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

from .escalation.roster import Roster
from .flowstore import FlowStore
from .outbox.outbound import Outbox
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
    roster: Roster
    outbox: Outbox
    clock: Callable[[], datetime] = utc_now
    _executor: ThreadPoolExecutor | None = field(default=None, repr=False)
    _executor_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def context(self) -> dict[str, str]:
        return self.settings.context

    def dispatch(self, ids: list[int] | None = None) -> None:
        """Send what the last transaction queued (`ids`; None: every due row): now (inline) or on one
        of OUTBOX_THREADS worker threads (background), so that in a surge of red flags the pages go
        out side by side instead of one after another.

        Either way the rows are already committed, so the clock's sweep retries anything missed.
        """
        if self.settings.dispatch == "inline":
            self._deliver(ids)
            return
        with self._executor_lock:  # request threads dispatch at once: one pool per process
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.settings.outbox_threads,
                                                    thread_name_prefix="outbox")
            executor = self._executor
        executor.submit(self._deliver, ids)

    def _deliver(self, ids: list[int] | None = None) -> None:
        try:
            self.outbox.deliver(ids)
        except Exception:  # the sweep will pick the rows up again; never crash the request thread
            log.exception("outbox.deliver_failed")

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
