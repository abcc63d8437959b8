"""One enum per status column, and the one definition of an open and of an unowned case.

The columns stay String(16): a StrEnum member is its own string, so rows, queries and comparisons with
older code read the same (CaseStatus.open == "open")."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    """escalations.status: open (in the queue) -> paged -> acknowledged (a nurse owns it) -> resolved."""

    open = "open"
    paged = "paged"
    acknowledged = "acknowledged"
    resolved = "resolved"


# An open case: in the queue, paged or acknowledged (not resolved). An unowned one: no nurse has acknowledged it
# yet. The dashboard's queue, the nurse commands, the timers, callbacks, retention and erasure all use these.
OPEN_STATUSES = (CaseStatus.open, CaseStatus.paged, CaseStatus.acknowledged)
UNOWNED_STATUSES = (CaseStatus.open, CaseStatus.paged)


class MessageStatus(StrEnum):
    """messages.status: an inbound text is received; a reply in TwiML is twiml; the outbox's rows go
    queued -> sending -> sent (or retry, then failed), cancelled when no longer wanted, suppressed when the
    patient opted out; advice staged during a call is offered until the caller takes it (queued) or not
    (declined)."""

    received = "received"
    twiml = "twiml"
    queued = "queued"
    sending = "sending"
    retry = "retry"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"
    suppressed = "suppressed"
    offered = "offered"
    declined = "declined"


# Rows the outbox still has to send (its claim, the metrics' backlog).
DUE_MESSAGE_STATUSES = (MessageStatus.queued, MessageStatus.retry, MessageStatus.sending)


class CheckinStatus(StrEnum):
    """checkins.status: pending -> sending -> sent -> answered, expired (reminded, no reply), skipped (a newer
    one), cancelled, or undeliverable (the carrier says it never can be)."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    answered = "answered"
    expired = "expired"
    skipped = "skipped"
    cancelled = "cancelled"
    undeliverable = "undeliverable"


class CallbackStatus(StrEnum):
    """callbacks.status: queued -> whispered (the nurse answered) -> dialling (the patient) -> ended."""

    queued = "queued"
    whispered = "whispered"
    dialling = "dialling"
    ended = "ended"
