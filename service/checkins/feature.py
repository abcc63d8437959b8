"""Check-in texts over the days after a triage: the clock job that sends them and their reminders."""

from __future__ import annotations

from ..feature import Feature, Job, Timer
from ..models import Checkin
from . import sender
from .cli import checkins_cli

FEATURE = Feature(
    "checkins",
    commands=(checkins_cli,),
    jobs=(Job("checkins", sender.tick, 5, (Timer(Checkin.due_at, Checkin.status == "pending"),
                                           Timer(Checkin.reminder_due_at), Timer(Checkin.expires_at))),),
)
