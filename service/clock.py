"""The clock: periodic jobs that find their work in the database (the rows are the timers).

The jobs are the features' (features.py). APScheduler runs each job on an interval in the `clock`
process (Procfile), or inside the web process in dev mode (RUN_CLOCK=1). Every job claims its rows
with a conditional UPDATE, so two clocks (or a clock restarted mid-wait) never act twice on the same
row, and a restart loses nothing: what was due while the clock was down is simply due now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from .feature import Job
from .features import jobs
from .logs import new_request_id, request_id
from .services import Services

log = logging.getLogger(__name__)


def tick(svc: Services) -> dict[str, int]:
    """Run every job once, now (tests drive the clock this way with a fake clock)."""
    return {job.name: job.run(svc) for job in jobs()}


def _guarded(job: Job, svc: Services) -> Callable[[], None]:
    def run() -> None:
        try:
            with request_id(new_request_id(f"clock-{job.name}-")):  # ties a run's lines and rows together
                handled = job.run(svc)
            if handled:
                log.info("clock.job name=%s handled=%d", job.name, handled)
        except Exception:  # one failing job must not stop the others, nor the clock
            log.exception("clock.job_failed name=%s", job.name)

    return run


def build_scheduler(svc: Services, blocking: bool) -> BaseScheduler:
    scheduler: BaseScheduler = BlockingScheduler() if blocking else BackgroundScheduler(daemon=True)
    for job in jobs():
        # coalesce + max_instances=1: after a stall, one catch-up run rather than a burst.
        scheduler.add_job(_guarded(job, svc), "interval", seconds=job.every_seconds, id=job.name,
                          coalesce=True, max_instances=1, misfire_grace_time=None,
                          next_run_time=datetime.now(UTC))  # first run at start: catch up after downtime at once
    return scheduler
