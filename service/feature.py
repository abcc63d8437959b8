"""What a feature adds to the service: web routes, CLI commands, outbox hooks, clock jobs.

Each package describes itself with one `Feature` (its feature.py); service/features.py lists them, and
create_app, the clock and the conversation tests' `wait:` steps all read that one list, so a new job
or timer cannot be missed by any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import click
from flask import Blueprint, Flask

from .services import Services
from .settings import Settings


@dataclass(frozen=True)
class Timer:
    """A column that holds when something is due (the rows are the timers), and which rows count."""

    column: Any  # an InstrumentedAttribute, e.g. Checkin.due_at
    where: Any = None  # an extra condition, e.g. Checkin.status == "pending"
    # Due this long after the column's time (a message's created_at + RETENTION_DAYS); None: not in use.
    after: Callable[[Settings], timedelta | None] | None = None


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Services], int]  # returns how many items it handled
    every_seconds: float
    timers: tuple[Timer, ...] = ()  # what it polls: the conversation tests jump from one to the next


@dataclass(frozen=True)
class Feature:
    name: str
    blueprints: tuple[Blueprint, ...] = ()
    commands: tuple[click.Command, ...] = ()
    jobs: tuple[Job, ...] = ()
    install: Callable[[Services], None] | None = None  # outbox hooks and the like, once per app
    init_app: Callable[[Flask], None] | None = None  # for what needs the app itself (the dashboard's CSRF)
