"""The one path every outbound text takes.

1. `queue_sms` writes the message as a row (status `queued`) in the caller's transaction, so
   nothing is sent that was not first stored, and nothing stored is forgotten.
2. After the commit, `deliver` claims each due row with a conditional UPDATE (one row updated means
   this process owns it; zero means another got there first), the same on SQLite and Postgres.
   Pages come first: a case's alerts (`URGENT_KINDS`) are claimed before any routine row, and they
   have a lane of their own (Services.dispatch, the clock's `outbox_pages` job), so a slow batch of
   check-ins or replies never sits in front of a page.
3. The transport sends it. Success: `sent` with Twilio's SID. A retryable failure (5xx, 429,
   timeout, network): `retry` with backoff. A permanent one (bad number, opted out at the carrier):
   `failed`, and the failure hooks decide what follows (opt-out, next nurse in the chain).
4. A row left `sending` by a crash is claimed again once its lease runs out, and a retried row after
   a timeout or a 5xx: the earlier attempt may have reached Twilio, whose Messages API takes no
   idempotency key. So a repeat attempt first asks the transport what it accepted from us for that
   number since the row was made (Twilio's message or call list: same To, From and body); a match no
   other row holds is this row's send: marked sent with that SID, not sent again. Only when Twilio
   has nothing is it sent. (A match can only be missed if Twilio's list is behind its create.)

Replies inside a webhook's TwiML are recorded here too (`record_reply`), so the history is whole.

The channel of a text is decided once, here, as it is queued (`text_channel`): the patient's own (the
one they last wrote on: SMS or WhatsApp) when it goes to the patient's number, SMS for anyone else (a
nurse's page). The outbox sends each row on the channel the row says; WhatsApp's own rule (the
24-hour window, templates outside it: service/whatsapp/) is its `whatsapp_rule`, applied as it sends.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from .. import fastsql
from ..db import transaction
from ..logs import bind_request_id, current_request_id, request_id
from ..models import Message, Patient
from ..phones import mask

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # a claimed row is ours this long (> the Twilio timeout); then anyone may retry
MAX_ATTEMPTS = 8
BACKOFF = [5, 15, 30, 60, 120, 300, 600]  # seconds before attempt 2, 3, ...
CLOCK_SKEW = timedelta(minutes=1)  # Twilio's clock against ours, when looking for an earlier attempt's send
QUEUED = "outbound.queued"  # session.info key: the ids of what this transaction queued to send
URGENT = "outbound.urgent"  # session.info key: those of them that are urgent
# A case's alerts to staff: a page, the fallback's text and call (escalation/cases.py cancels these once a
# nurse owns the case).
URGENT_KINDS = ("page", "fallback", "fallback_call")


class Queued(list[int]):
    """The rows a transaction queued, urgent ones first; `urgent` says which (the lane they go in)."""

    def __init__(self, ids: Iterable[int] = (), urgent: Iterable[int] = ()):
        self.urgent = frozenset(urgent)
        super().__init__(sorted(ids, key=lambda message_id: message_id not in self.urgent))


def lanes(ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(urgent, routine): what a `Queued` says; plain ids, of unknown kind, are routine."""
    urgent = ids.urgent if isinstance(ids, Queued) else frozenset()
    listed = list(ids)
    return [i for i in listed if i in urgent], [i for i in listed if i not in urgent]


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template sent in a text's place (Twilio's ContentSid and ContentVariables)."""

    sid: str
    variables: dict[str, str]


@dataclass(frozen=True)
class SendError(Exception):
    reason: str
    retryable: bool
    code: int | None = None

    def __str__(self) -> str:
        return f"{self.reason} (code {self.code})" if self.code else self.reason


class Transport(Protocol):
    name: str

    def send_sms(self, to: str, body: str) -> str:
        """Send one SMS; return the provider's message SID or raise SendError."""
        ...

    def place_call(self, to: str, say: str) -> str:
        """Place one outbound call that says `say` (twice); return the call SID or raise SendError."""
        ...

    def send_whatsapp(self, to: str, body: str, template: Template | None) -> str:
        """Send one WhatsApp message to `to` (E.164): the body, or the template in its place; return the
        message SID or raise SendError."""
        ...

    def call_webhook(self, to: str, url: str, status_url: str | None) -> str:
        """Place one outbound call whose TwiML Twilio fetches from our webhook `url` (a path), reporting its end
        at `status_url`; return the call SID or raise SendError."""
        ...

    def sent_since(self, channel: str, to: str, body: str | None, since: datetime) -> list[str]:
        """The SIDs of what the provider accepted from us for `to` on `channel` since `since`, newest first:
        messages with this body (None: any), calls for channel voice; raise SendError if it cannot tell."""
        ...


def queue_sms(session: Session, *, to: str, body: str, kind: str, now: datetime, patient_id: int | None = None,
              conversation_id: int | None = None, escalation_id: int | None = None,
              checkin_id: int | None = None, key: str | None = None, held: bool = False) -> Message:
    """A text stored to be sent after the commit. `held`: stored as offered and not sent until `release`
    (a call's advice, before the caller accepts): no send is attempted for it, and no transaction spent."""
    message = Message(
        patient_id=patient_id, conversation_id=conversation_id, escalation_id=escalation_id,
        checkin_id=checkin_id, direction="out", channel=text_channel(session, patient_id, to), kind=kind, key=key,
        to_phone=to, body=body, status="offered" if held else "queued", attempts=0,
        next_attempt_at=None if held else now, created_at=now,
    )
    session.add(message)
    session.flush()
    if not held:
        _queued(session, message)
    return message


def _queued(session: Session, message: Message) -> None:
    session.info.setdefault(QUEUED, []).append(message.id)
    if message.kind in URGENT_KINDS:
        session.info.setdefault(URGENT, set()).add(message.id)


PATIENT_CHANNEL = (select(Patient.messaging_channel)
                   .where(Patient.id == bindparam("patient_id"), Patient.phone == bindparam("to")))


def text_channel(session: Session, patient_id: int | None, to: str) -> str:
    """The channel a text to `to` goes on: the patient's current one when `to` is the patient's own number,
    SMS for everyone else (pages to nurses stay SMS)."""
    if patient_id is None:
        return "sms"
    return session.execute(PATIENT_CHANNEL, {"patient_id": patient_id, "to": to}).scalar() or "sms"


def queue_call(session: Session, *, to: str, say: str, kind: str, now: datetime, patient_id: int | None = None,
               escalation_id: int | None = None, url: str | None = None, status_url: str | None = None) -> Message:
    """An outbound call, queued and retried exactly like a text: one that says `say` (e.g. alerting the
    fallback line), or, given `url`, one that runs our own webhook at that path when answered (then `say`
    is only its description in the history). Words and paths are stored, not TwiML: the transport speaks
    Twilio's language."""
    message = Message(patient_id=patient_id, escalation_id=escalation_id, direction="out", channel="voice",
                      kind=kind, to_phone=to, body=say, status="queued", attempts=0, next_attempt_at=now,
                      created_at=now, call_url=url, call_status_url=status_url)
    session.add(message)
    session.flush()
    _queued(session, message)
    return message


def release(session: Session, messages: Iterable[Message], now: datetime) -> None:
    """Send rows that were stored and held (a call's advice, offered before the caller accepted) with this
    transaction's own sends."""
    for message in messages:
        message.status, message.next_attempt_at = "queued", now
        _queued(session, message)


def queued_in(session: Session, since: int = 0) -> Queued:
    """The texts and calls this session queued (from the `since`-th on), urgent ones first: `svc.dispatch(...)`
    them after the commit."""
    return Queued(session.info.get(QUEUED, [])[since:], session.info.get(URGENT, ()))


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint of the session's transaction whose queued sends go with its rows if it rolls back."""
    queued = session.info.setdefault(QUEUED, [])
    mark = len(queued)
    try:
        with session.begin_nested():
            yield
    except Exception:
        del queued[mark:]
        raise


INSERT_MESSAGE = insert(Message.__table__)


def record_reply(session: Session, *, patient_id: int | None, conversation_id: int | None, channel: str,
                 body: str, key: str, now: datetime, to: str | None) -> None:
    """A reply carried in the webhook's own TwiML response (no REST send). A Core insert on the
    session's connection: every webhook writes one, and nothing reads it back in the request."""
    kind = "prompt" if channel == "voice" else "reply"
    session.flush()  # rows the ORM still holds (the answer this replies to) keep their place in the history
    fastsql.execute(session, INSERT_MESSAGE, {
        "patient_id": patient_id, "conversation_id": conversation_id, "direction": "out", "channel": channel,
        "kind": kind, "key": key, "to_phone": to, "body": body, "status": "twiml", "attempts": 1,
        "created_at": now, "sent_at": now})


@dataclass(frozen=True)
class Attempt:
    """One claimed row, as its send needs it."""

    id: int
    to: str
    body: str
    channel: str
    url: str | None  # a call that runs our webhook
    status_url: str | None
    template: Template | None  # WhatsApp: the template sent in the body's place
    attempts: int  # this one included: more than 1 means an earlier attempt's outcome may be unknown
    created_at: datetime


FailureHook = Callable[[Session, Message, SendError, datetime], None]
# What a WhatsApp row is sent as, decided as it goes: None (its body), a template, or SendError (not sent).
WhatsAppRule = Callable[[Message, Patient | None, datetime], Template | None]


class Outbox:
    """Delivers queued rows through one transport; failure hooks are registered by the features."""

    def __init__(self, factory: sessionmaker[Session], transport: Transport, clock: Callable[[], datetime]):
        self.factory = factory
        self.transport = transport
        self.clock = clock
        self.failure_hooks: list[FailureHook] = []
        self.retry_hooks: list[FailureHook] = []  # a failed attempt that will be retried (made visible)
        self.whatsapp_rule: WhatsAppRule | None = None  # the WhatsApp feature's (service/whatsapp/feature.py)
        # Sessions for the page lane on a connection of its own (Services.page_sessions): on SQLite a process
        # has one pooled connection, and a page's claim would queue behind every webhook waiting for it.
        self.page_factory: Callable[[], sessionmaker[Session]] | None = None

    def due_ids(self, limit: int = 100, urgent_only: bool = False) -> list[int]:
        """Due rows, oldest first, every urgent one before any routine one."""
        now = self.clock()
        due = select(Message.id).where(
            Message.direction == "out",
            or_(Message.status.in_(("queued", "retry")), Message.status == "sending"),
            Message.next_attempt_at <= now,
        ).order_by(Message.next_attempt_at, Message.id).limit(limit)
        with self.factory() as session:
            ids = list(session.scalars(due.where(Message.kind.in_(URGENT_KINDS))))
            if not urgent_only and len(ids) < limit:
                ids += session.scalars(due.where(Message.kind.not_in(URGENT_KINDS)).limit(limit - len(ids)))
            return ids

    def deliver(self, ids: Iterable[int] | None = None, urgent_only: bool = False, page_lane: bool = False) -> int:
        """Send the given rows (or every due row, or every due urgent row); returns how many were sent.
        `page_lane`: the rows are pages, claimed and recorded on the page lane's own connection."""
        factory = self.page_factory() if page_lane and self.page_factory is not None else self.factory
        sent = 0
        with request_id(current_request_id()):  # _send tags each row's lines with its own request's id
            for message_id in (self.due_ids(urgent_only=urgent_only) if ids is None else ids):
                attempt = self._claim(message_id, factory)
                if attempt is not None:
                    sent += self._send(attempt, factory)
        return sent

    def _claim(self, message_id: int, factory: sessionmaker[Session]) -> Attempt | None:
        """Claim the row and read what sending it takes, in one transaction (a page's first round trip)."""
        now = self.clock()
        refused = None
        with transaction(factory) as session:
            claimed = session.execute(
                update(Message)
                .where(Message.id == message_id, Message.next_attempt_at <= now,
                       Message.status.in_(("queued", "retry", "sending")))
                .values(status="sending", attempts=Message.attempts + 1, next_attempt_at=now + LEASE)
                .execution_options(synchronize_session=False)
            ).rowcount == 1
            if not claimed:
                return None
            message = session.get(Message, message_id)
            assert message is not None
            bind_request_id(message.request_id)
            patient = session.get(Patient, message.patient_id) if message.patient_id else None
            if patient is not None and patient.opted_out and message.to_phone == patient.phone:
                self._record(message, status="suppressed", error="patient opted out")
                return None
            template = None
            if message.channel == "whatsapp" and self.whatsapp_rule is not None:
                try:
                    template = self.whatsapp_rule(message, patient, now)
                except SendError as error:  # outside the 24-hour window with no template: not sent at all
                    refused = error
            attempt = Attempt(message_id, message.to_phone or "", message.body, message.channel, message.call_url,
                              message.call_status_url, template, message.attempts, message.created_at)
        if refused is not None:
            self._failed(message_id, refused, factory)
            return None
        return attempt

    def _send(self, attempt: Attempt, factory: sessionmaker[Session]) -> int:
        message_id, to, body, template = attempt.id, attempt.to, attempt.body, attempt.template
        try:
            if attempt.attempts > 1 and (sid := self._sent_before(attempt, factory)) is not None:
                log.warning("outbound.reconciled message_id=%s attempt=%s: an earlier attempt reached the provider",
                            message_id, attempt.attempts)
                self._finish(message_id, factory, status="sent", sid=sid, template=template)
                return 1
            if attempt.url:
                sid = self.transport.call_webhook(to, attempt.url, attempt.status_url)
            elif attempt.channel == "whatsapp":
                sid = self.transport.send_whatsapp(to, body, template)
            elif attempt.channel == "voice":
                sid = self.transport.place_call(to, body)
            else:
                sid = self.transport.send_sms(to, body)
        except SendError as error:
            self._failed(message_id, error, factory)
            return 0
        except Exception as exc:  # a transport bug must not lose the message: treat as retryable
            log.exception("outbound.transport_error message_id=%s", message_id)
            self._failed(message_id, SendError(type(exc).__name__, retryable=True), factory)
            return 0
        self._finish(message_id, factory, status="sent", sid=sid, template=template)
        return 1

    def _sent_before(self, attempt: Attempt, factory: sessionmaker[Session]) -> str | None:
        """The SID of an earlier attempt's send the provider holds, if any: same number, channel and body (a
        call or a template: any, to that number), since the row was made, and no other row's SID."""
        same_body = attempt.channel != "voice" and attempt.template is None
        found = self.transport.sent_since(attempt.channel, attempt.to, attempt.body if same_body else None,
                                          attempt.created_at - CLOCK_SKEW)
        if not found:
            return None
        with factory() as session:
            held = set(session.scalars(select(Message.twilio_sid).where(Message.twilio_sid.in_(found))))
        return next((sid for sid in found if sid not in held), None)

    def _finish(self, message_id: int, factory: sessionmaker[Session], *, status: str, sid: str | None = None,
                template: Template | None = None) -> None:
        with transaction(factory) as session:
            message = session.get(Message, message_id)
            assert message is not None
            self._record(message, status=status, sid=sid, template=template)

    def _record(self, message: Message, *, status: str, sid: str | None = None, error: str | None = None,
                template: Template | None = None) -> None:
        message.status = status
        message.twilio_sid = sid
        message.content_sid = template.sid if template is not None else None
        message.last_error = error
        message.next_attempt_at = None
        message.sent_at = self.clock() if status == "sent" else None
        log.info("outbound.%s message_id=%s kind=%s to=%s", status, message.id, message.kind, mask(message.to_phone))

    def _failed(self, message_id: int, error: SendError, factory: sessionmaker[Session]) -> None:
        now = self.clock()
        with transaction(factory) as session:
            message = session.get(Message, message_id)
            assert message is not None
            message.last_error = str(error)
            if error.retryable and message.attempts < MAX_ATTEMPTS:
                delay = BACKOFF[min(message.attempts - 1, len(BACKOFF) - 1)]
                message.status = "retry"
                message.next_attempt_at = now + timedelta(seconds=delay)
                log.warning("outbound.retry message_id=%s kind=%s attempt=%s error=%s", message_id,
                            message.kind, message.attempts, error)
                for hook in self.retry_hooks:
                    hook(session, message, error, now)
                return
            message.status = "failed"
            message.next_attempt_at = None
            log.error("outbound.failed message_id=%s kind=%s attempts=%s error=%s", message_id, message.kind,
                      message.attempts, error)
            for hook in self.failure_hooks:
                hook(session, message, error, now)
            told = queued_in(session)
        if told:  # what the hooks queued (a nurse told the patient was not reached) goes now, not at the sweep
            self.deliver(told)
