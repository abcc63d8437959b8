"""Patient data at rest: the retention clock job and its timers, the `flask data` commands."""

from __future__ import annotations

from ..feature import Feature, Job, Timer
from ..models import AdviceReview, Conversation, Escalation, Message, WebhookReceipt
from ..statuses import CaseStatus
from . import retention
from .cli import data_cli

# Each row is due RETENTION_DAYS after its time (Timer.after); none is a timer while it is unset.
TIMERS = (Timer(Message.created_at, Message.content_purged_at.is_(None), after=retention.retention),
          Timer(Conversation.updated_at, Conversation.content_purged_at.is_(None), after=retention.retention),
          Timer(Escalation.updated_at,
                (Escalation.status == CaseStatus.resolved) & Escalation.content_purged_at.is_(None),
                after=retention.retention),
          Timer(WebhookReceipt.created_at, after=retention.retention),
          Timer(AdviceReview.reviewed_at, AdviceReview.content_purged_at.is_(None), after=retention.retention))

FEATURE = Feature("privacy", commands=(data_cli,), jobs=(Job("retention", retention.tick, 900, TIMERS),))
