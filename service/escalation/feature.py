"""Escalations: the re-page and pass-down timers, the hooks that act on a failed page, the roster CLI."""

from __future__ import annotations

from ..feature import Feature, Job, Timer
from ..models import Escalation
from . import timers
from .cli import roster_cli

FEATURE = Feature(
    "escalation",
    commands=(roster_cli,),
    jobs=(Job("escalations", timers.tick, 10, (Timer(Escalation.next_action_at),)),),
    install=timers.install,  # failed pages show on their case, and pass it down the chain
)
