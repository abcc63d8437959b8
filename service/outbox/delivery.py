"""Delivery: what Twilio says became of each outbound text, and what follows when one never arrives.

Twilio reports a text's fate twice: at once (the REST call fails: outbound.py retries or gives up),
and later through the status callback (queued -> sent -> delivered, or undelivered/failed with a
carrier error code). Both kinds of failure take one path, the outbox's failure hooks:
- a page that did not arrive passes its case down the escalation chain (escalation/timers.py);
- a check-in that did not arrive is asked again later (a few times), unless the number can never
  receive it;
- error 21610 (the recipient replied STOP to the carrier) marks the patient opted out, as our own
  STOP keyword does: no more texts, no check-ins.
Callbacks may repeat or arrive out of order: a status only ever moves forward (delivered never
goes back to sent), and the failure path runs once, for the callback that made the move.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..channels.twilio_errors import NEVER_DELIVERABLE, OPTED_OUT_AT_CARRIER
from ..checkins.schedule import cancel_pending
from ..db import transaction
from ..models import Checkin, Message, Patient
from ..services import Services
from .outbound import SendError

log = logging.getLogger(__name__)

# Twilio's message statuses in the order a text moves through them; the last four are final.
STATUS_RANK = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
               "undelivered": 4, "failed": 4, "canceled": 4, "read": 5}
NOT_DELIVERED = ("undelivered", "failed")

CHECKIN_RETRY_AFTER = timedelta(hours=1)  # then the sender's own rules (daytime, caps) apply
CHECKIN_SEND_LIMIT = 3  # sends of one check-in in all, first one included
REMINDER_KEY = "checkin_reminder"  # a lost reminder is not retried: the check-in simply expires


def record_status(svc: Services, *, sid: str, status: str, error_code: int | None) -> str:
    """Apply one status callback; returns what happened (for the log): unknown, ignored, stale, recorded."""
    now = svc.clock()
    rank = STATUS_RANK.get(status)
    with transaction(svc.factory) as session:
        message = session.scalars(select(Message).where(Message.twilio_sid == sid, Message.direction == "out")
                                  .limit(1)).first()
        if message is None:
            outcome = "unknown"
        elif rank is None:
            outcome = "ignored"
        else:
            earlier = [name for name, r in STATUS_RANK.items() if r < rank]
            moved = session.execute(
                update(Message)
                .where(Message.id == message.id,
                       or_(Message.delivery_status.is_(None), Message.delivery_status.in_(earlier)))
                .values(delivery_status=status, delivery_error_code=error_code)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            outcome = "recorded" if moved else "stale"
            if moved and status in NOT_DELIVERED:
                session.refresh(message)
                error = SendError(f"delivery {status}", retryable=False, code=error_code)
                for hook in svc.outbox.failure_hooks:
                    hook(session, message, error, now)
        log.info("delivery.status sid=%s message_id=%s status=%s error_code=%s outcome=%s", sid,
                 message.id if message else None, status, error_code, outcome)
    svc.dispatch()  # a failed page may have queued the next nurse's
    return outcome


def opt_out_at_carrier(session: Session, message: Message, error: SendError, now: datetime) -> None:
    """Failure hook: 21610 means the patient texted STOP to the carrier; honour it like our STOP."""
    if error.code != OPTED_OUT_AT_CARRIER or message.patient_id is None:
        return
    patient = session.get(Patient, message.patient_id)
    if patient is None or patient.phone != message.to_phone or patient.opted_out:
        return  # e.g. a nurse's number: the page hook deals with that
    patient.opted_out_at = now
    cancel_pending(session, patient.id)
    log.warning("delivery.opted_out_at_carrier patient=%s message_id=%s", patient.id, message.id)


def retry_checkin_later(session: Session, message: Message, error: SendError, now: datetime) -> None:
    """Failure hook: a check-in that never arrived goes back to pending, due again later."""
    if message.kind != "checkin" or message.checkin_id is None or message.key == REMINDER_KEY:
        return
    checkin = session.get(Checkin, message.checkin_id)
    if checkin is None or checkin.status != "sent":
        return  # answered, expired or cancelled meanwhile: nothing to ask again
    latest = session.scalar(select(func.max(Message.id)).where(
        Message.checkin_id == checkin.id, Message.direction == "out", Message.kind == "checkin",
        or_(Message.key.is_(None), Message.key != REMINDER_KEY)))
    patient = session.get(Patient, checkin.patient_id)
    if latest != message.id or patient is None or patient.opted_out:
        return  # an older send of a check-in asked again since, or the patient opted out
    if error.code in NEVER_DELIVERABLE or checkin.attempts >= CHECKIN_SEND_LIMIT:
        checkin.status = "undeliverable"
        log.warning("delivery.checkin_undeliverable checkin=%s attempts=%s code=%s", checkin.id, checkin.attempts,
                    error.code)
        return
    checkin.status, checkin.due_at, checkin.reminder_due_at = "pending", now + CHECKIN_RETRY_AFTER, None
    log.info("delivery.checkin_retry checkin=%s due_at=%s", checkin.id, checkin.due_at.isoformat())


def install(svc: Services) -> None:
    """Register the failure hooks (create_app calls this once per app)."""
    svc.outbox.failure_hooks.extend([opt_out_at_carrier, retry_checkin_later])
