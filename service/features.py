"""Every feature of the service, in one list: create_app registers their routes, commands and hooks;
the clock runs their jobs; the conversation tests' `wait:` steps jump between their timers."""

from __future__ import annotations

from .callbacks.feature import FEATURE as CALLBACKS
from .channels.feature import FEATURE as CHANNELS
from .checkins.feature import FEATURE as CHECKINS
from .dashboard.feature import FEATURE as DASHBOARD
from .escalation.feature import FEATURE as ESCALATION
from .feature import Feature, Job, Timer
from .metrics.feature import FEATURE as METRICS
from .models import Message
from .outbox import delivery
from .outbox.outbound import URGENT_KINDS
from .privacy.feature import FEATURE as PRIVACY
from .records.feature import FEATURE as RECORDS
from .runtime.feature import FEATURE as SILENCE
from .servicelevels.feature import FEATURE as SERVICE_LEVELS
from .services import Services
from .spool.feature import FEATURE as SPOOL
from .whatsapp.feature import FEATURE as WHATSAPP


def _outbox(svc: Services) -> int:
    return svc.outbox.deliver()


def _outbox_pages(svc: Services) -> int:
    return svc.outbox.deliver(urgent_only=True, page_lane=True)


# Sending and retrying what was queued; carrier opt-outs (21610) and lost check-ins (outbox/delivery.py).
# Pages have a sweep of their own, more often, so a long run of routine sends never holds one back.
OUTBOX = Feature("outbox", jobs=(Job("outbox", _outbox, 5, (Timer(Message.next_attempt_at),)),
                                 Job("outbox_pages", _outbox_pages, 1,
                                     (Timer(Message.next_attempt_at, Message.kind.in_(URGENT_KINDS)),))),
                 install=delivery.install)

FEATURES: tuple[Feature, ...] = (OUTBOX, CHANNELS, SILENCE, CHECKINS, ESCALATION, DASHBOARD, CALLBACKS,
                                SERVICE_LEVELS, METRICS, RECORDS, SPOOL, PRIVACY, WHATSAPP)


def jobs() -> list[Job]:
    return [job for feature in FEATURES for job in feature.jobs]


def timers() -> list[Timer]:
    return [timer for job in jobs() for timer in job.timers]
