"""What /metrics reports, read from the database at each scrape: every web process, clock and machine writes
there, so the figures are the whole service's, not one process's. Labels are levels, statuses, kinds and
table columns: never a phone number or a patient's words.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..feature import Timer
from ..models import Checkin, Conversation, Escalation, Message
from ..services import Services
from ..statuses import DUE_MESSAGE_STATUSES, CheckinStatus

ACK_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0)  # seconds; then +Inf
NOT_DELIVERED = ("undelivered", "failed")


class DatabaseMetrics(Collector):
    def __init__(self, svc: Services, timers: Sequence[Timer]):
        self.svc = svc
        self.timers = timers  # features.timers(), passed in: features.py lists this package too

    def collect(self) -> Iterator[Metric]:
        now = self.svc.clock()
        with self.svc.factory() as session:
            yield outcomes(session)
            yield pages(session)
            yield acknowledge_latency(session)
            yield from outbox(session, now)
            yield clock_lag(session, now, self.timers)
            yield from checkins(session, now)


def outcomes(session: Session) -> Metric:
    family = CounterMetricFamily("triage_outcomes", "Conversations that reached an outcome, by level",
                                 labels=["level"])
    for level, n in session.execute(select(Conversation.level, func.count()).where(Conversation.outcome.is_not(None))
                                    .group_by(Conversation.level)):
        family.add_metric([level or "none"], n)
    return family


def pages(session: Session) -> Metric:
    """Pages to nurses sent (accepted by Twilio and not reported undelivered) and failed (refused or lost)."""
    family = CounterMetricFamily("triage_pages", "Pages to nurses, by result", labels=["result"])
    counts = {"sent": 0, "failed": 0}
    rows = session.execute(select(Message.status, Message.delivery_status, func.count())
                           .where(Message.kind == "page", Message.direction == "out")
                           .group_by(Message.status, Message.delivery_status))
    for status, delivery, n in rows:
        if status == "failed" or delivery in NOT_DELIVERED:
            counts["failed"] += n
        elif status == "sent":
            counts["sent"] += n
    for result, n in counts.items():
        family.add_metric([result], n)
    return family


def acknowledge_latency(session: Session) -> Metric:
    family = HistogramMetricFamily("triage_acknowledge_seconds", "From a case opening to a nurse acknowledging it",
                                   labels=["disposition"])
    found: dict[str, list[float]] = {}
    for disposition, opened, acked in session.execute(select(Escalation.disposition, Escalation.created_at,
                                                          Escalation.acknowledged_at)
                                                   .where(Escalation.acknowledged_at.is_not(None))):
        found.setdefault(disposition, []).append(max((acked - opened).total_seconds(), 0.0))
    for disposition, seconds in sorted(found.items()):
        buckets = [(floatToGoString(edge), sum(1 for s in seconds if s <= edge)) for edge in ACK_BUCKETS]
        family.add_metric([disposition], buckets + [("+Inf", len(seconds))], sum(seconds))
    return family


def outbox(session: Session, now: datetime) -> Iterator[Metric]:
    due, oldest = session.execute(select(func.count(), func.min(Message.next_attempt_at)).where(
        Message.direction == "out", Message.status.in_(DUE_MESSAGE_STATUSES), Message.next_attempt_at <= now)).one()
    yield GaugeMetricFamily("triage_outbox_backlog", "Texts and calls due to be sent now and not sent yet",
                            value=due)
    yield GaugeMetricFamily("triage_outbox_oldest_due_seconds", "How long the oldest due text or call has waited",
                            value=_age(now, oldest))


def clock_lag(session: Session, now: datetime, timers: Sequence[Timer]) -> Metric:
    """Per timer the clock polls (features.py): how long its oldest due row has waited. Check-ins held for the
    daytime or the weekly cap show as waiting too."""
    family = GaugeMetricFamily("triage_clock_lag_seconds", "How long the oldest due row of each timer has waited "
                               "for the clock", labels=["timer"])
    for timer in timers:
        query = select(func.min(timer.column)).where(timer.column <= now)
        if timer.where is not None:
            query = query.where(timer.where)
        family.add_metric([f"{timer.column.class_.__tablename__}.{timer.column.key}"],
                          _age(now, session.scalar(query)))
    return family


def checkins(session: Session, now: datetime) -> Iterator[Metric]:
    due = session.scalar(select(func.count()).where(Checkin.status == CheckinStatus.pending, Checkin.due_at <= now))
    sent = session.scalar(select(func.count()).where(Checkin.sent_at.is_not(None)))
    yield GaugeMetricFamily("triage_checkins_due", "Check-ins due now and not sent yet", value=due or 0)
    yield CounterMetricFamily("triage_checkins_sent", "Check-ins sent", value=sent or 0)


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since) / timedelta(seconds=1), 0.0) if since is not None else 0.0
