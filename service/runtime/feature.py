"""The runtime's own clock job: a patient who goes quiet inside the red-flag screen (silence.py)."""

from __future__ import annotations

from ..feature import Feature, Job, Timer
from ..models import Conversation
from . import silence

FEATURE = Feature("silence", jobs=(Job("silence", silence.tick, 30, (Timer(Conversation.silence_due_at),)),))
