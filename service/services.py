"""Everything a request, a CLI command or the clock needs, built once per app."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .escalation.roster import Roster
from .flowstore import FlowStore
from .outbound import Outbox
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

    @property
    def context(self) -> dict[str, str]:
        return self.settings.context

    def dispatch(self) -> None:
        """Send what the last transaction queued: now (inline) or on a worker thread (background).

        Either way the rows are already committed, so the clock's sweep retries anything missed.
        """
        if self.settings.dispatch == "inline":
            self._deliver()
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self._executor.submit(self._deliver)

    def _deliver(self) -> None:
        try:
            self.outbox.deliver()
        except Exception:  # the sweep will pick the rows up again; never crash the request thread
            log.exception("outbox.deliver_failed")

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
