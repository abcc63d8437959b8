"""The outage spool: Twilio's fallback URLs, `flask spool`, and the clock job that replays the spool once the
database answers (it polls a file, not a column: no timers for the conversation tests to jump to)."""

from __future__ import annotations

from ..feature import Feature, Job
from . import replay, routes
from .cli import spool_cli

FEATURE = Feature("spool", blueprints=(routes.bp,), commands=(spool_cli,), jobs=(Job("spool", replay.tick, 15),))
