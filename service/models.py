"""SQLAlchemy tables. Times are stored as UTC; every change a patient or nurse causes is kept.

What patients said and what was said about them is sealed (privacy/sealed.py: encrypted under DATA_KEY):
message bodies, the conversation state (answers, quotes), cases' quotes, notes and voicemail links, the
audit trail's details (notes, links) and webhook receipts (the replies). Left plain: phone numbers (each
text looks its patient up by number), levels, statuses, times, flow ids and the engine's own reasons.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .logs import current_request_id
from .privacy.sealed import SealedJSON, SealedText
from .statuses import CallbackStatus, CaseStatus, CheckinStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, on SQLite (which drops the zone) and Postgres alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)  # E.164; None: caller ID hidden
    language: Mapped[str] = mapped_column(String(8), default="en")
    opted_out_at: Mapped[datetime | None]
    privacy_notice_sent: Mapped[bool] = mapped_column(default=False)
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    erased_at: Mapped[datetime | None]  # an erasure request carried out (flask data erase-patient)
    # The channel the patient last wrote on (sms | whatsapp): every text to them goes out on it.
    messaging_channel: Mapped[str] = mapped_column(String(8), default="sms", server_default="sms")
    whatsapp_last_at: Mapped[datetime | None]  # their last WhatsApp message: free text only within 24 h of it

    conversations: Mapped[list[Conversation]] = relationship(back_populates="patient")

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_patient_updated", "patient_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    flow_id: Mapped[str] = mapped_column(String(64))
    flow_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # sms | whatsapp | voice
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(SealedJSON("conversations.state"), default=dict)
    status: Mapped[str] = mapped_column(String(16), default="active")
    node: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(32))
    disposition: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]
    # Silence in the red-flag screen: a reminder, then a nurse callback (issue: no dead ends).
    silence_due_at: Mapped[datetime | None] = mapped_column(index=True)
    silence_stage: Mapped[int] = mapped_column(default=0)  # 0: no reminder yet; 1: the reminder went
    version: Mapped[int] = mapped_column(Integer, default=1)
    content_purged_at: Mapped[datetime | None]  # answers and quotes removed (retention, erasure)

    patient: Mapped[Patient] = relationship(back_populates="conversations")
    __mapper_args__ = {"version_id_col": version}  # a lost update raises instead of passing silently


class FlowVersion(Base):
    """Every flow version ever served, so open conversations can finish on the version they began."""

    __tablename__ = "flow_versions"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(64), index=True)
    path: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    first_served_at: Mapped[datetime]


class Message(Base):
    """Every text in or out. Outbound rows double as the send queue: persisted before any send."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_outbox", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    checkin_id: Mapped[int | None] = mapped_column(ForeignKey("checkins.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    channel: Mapped[str] = mapped_column(String(8))  # sms | whatsapp | voice
    kind: Mapped[str] = mapped_column(String(16))  # reply | page | checkin | relay | forward | prompt | answer
    key: Mapped[str | None] = mapped_column(Text)  # flow node or message names (a turn's, comma-joined, uncut)
    to_phone: Mapped[str | None] = mapped_column(String(20))
    from_phone: Mapped[str | None] = mapped_column(String(20))  # inbound from staff (nurse commands)
    body: Mapped[str] = mapped_column(SealedText("messages.body"))
    content_sid: Mapped[str | None] = mapped_column(String(34))  # the WhatsApp template sent in the body's place
    status: Mapped[str] = mapped_column(String(16))  # statuses.MessageStatus
    twilio_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    delivery_status: Mapped[str | None] = mapped_column(String(16))  # from Twilio's status callback
    delivery_error_code: Mapped[int | None]
    # The webhook (or clock run) that wrote this row, so its later send logs tie back to it.
    request_id: Mapped[str | None] = mapped_column(String(64), default=current_request_id)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    content_purged_at: Mapped[datetime | None]  # the body removed (retention, erasure): the row stays
    # A call whose TwiML Twilio fetches from our webhook (a path under PUBLIC_BASE_URL) instead of fixed
    # words in `body` (a callback through the clinic number), and where Twilio reports how it ended.
    call_url: Mapped[str | None] = mapped_column(Text)
    call_status_url: Mapped[str | None] = mapped_column(Text)


class WebhookReceipt(Base):
    """A Twilio request already handled (MessageSid, or CallSid + step): replay the same answer."""

    __tablename__ = "webhook_receipts"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    response: Mapped[str] = mapped_column(SealedText("webhook_receipts.response"))
    created_at: Mapped[datetime]


class Escalation(Base):
    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(primary_key=True)  # the case number nurses use
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    level: Mapped[str] = mapped_column(String(32))
    disposition: Mapped[str] = mapped_column(String(16))  # emergency | nurse_callback | clinic_queue
    red_flags: Mapped[list[Any]] = mapped_column(default=list)
    quotes: Mapped[list[Any]] = mapped_column(SealedJSON("escalations.quotes"), default=list)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.open, index=True)  # statuses.py
    nurse_phone: Mapped[str | None] = mapped_column(String(20))  # the nurse paged last, or the owner
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    chain_position: Mapped[int] = mapped_column(default=0)
    repages_done: Mapped[int] = mapped_column(default=0)  # re-pages sent to the nurse at chain_position
    pages_sent: Mapped[int] = mapped_column(default=0)
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    recording_url: Mapped[str | None] = mapped_column(SealedText("escalations.recording_url"))
    note: Mapped[str | None] = mapped_column(SealedText("escalations.note"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    paged_at: Mapped[datetime | None]  # the first page sent (service levels: issue #20)
    acknowledged_at: Mapped[datetime | None]
    # The first time a nurse reached the patient: a relayed text, or a call that connected (either way).
    first_contact_at: Mapped[datetime | None]
    first_contact_via: Mapped[str | None] = mapped_column(String(8))  # sms | voice
    resolved_at: Mapped[datetime | None]
    content_purged_at: Mapped[datetime | None]  # quotes, note and voicemail link removed (retention, erasure)

    patient: Mapped[Patient] = relationship()
    events: Mapped[list[EscalationEvent]] = relationship(order_by="EscalationEvent.id")


class Callback(Base):
    """A nurse's call to a patient through the clinic number: the nurse's phone rings first, hears the
    case, presses 1, and the patient is dialled with the clinic's caller ID. One row per attempt."""

    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    nurse_phone: Mapped[str] = mapped_column(String(20))  # the roster phone rung first
    requested_by: Mapped[str] = mapped_column(String(64))
    # queued -> ringing nurse -> whispered -> dialling -> ended (statuses.CallbackStatus); outcome: how it ended
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.queued)
    outcome: Mapped[str | None] = mapped_column(String(24))  # talked | patient_no_answer | nurse_no_answer ...
    nurse_call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))  # the queued call to the nurse
    requested_at: Mapped[datetime]
    nurse_answered_at: Mapped[datetime | None]
    patient_answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    talk_seconds: Mapped[int | None]  # the nurse and the patient connected this long (Twilio's DialCallDuration)


class EscalationEvent(Base):
    """Audit trail: every transition of a case, timestamped, with who did it."""

    __tablename__ = "escalation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id"), index=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64), default="system")
    detail: Mapped[str] = mapped_column(SealedText("escalation_events.detail"), default="")  # may be a note


class Checkin(Base):
    """One follow-up text: pending -> sent -> answered | expired; or cancelled / skipped (superseded)."""

    __tablename__ = "checkins"
    __table_args__ = (Index("ix_checkins_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    ask: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=CheckinStatus.pending)  # statuses.py
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    reminder_due_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # reminded and still no reply by then: stop (checkins/sender.py)
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class User(Base):
    """Dashboard users (nurses, admins). Passwords are stored hashed only."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # nurse | admin
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Two-factor sign-in (TOTP). The shared secret is a secret: plain base32 here until encryption at
    # rest (issue #18, item 4) covers this column too.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None]
    totp_last_counter: Mapped[int | None]  # the last 30 s step accepted: a code is never accepted twice

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret is not None and self.totp_enabled_at is not None


class DashboardSession(Base):
    """A dashboard session, held here: the browser's cookie carries only a random token, stored as its
    SHA-256. Ending a row ends the session wherever the cookie is (logout, disable, an admin)."""

    __tablename__ = "dashboard_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # None: not signed in yet
    stage: Mapped[str] = mapped_column(String(8))  # anon | totp | enrol (second factor to come) | full
    data: Mapped[str] = mapped_column(Text, default="")  # Flask's session dict (CSRF token, flashes), as JSON
    address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]  # the sign-in: the absolute lifetime counts from here
    last_active_at: Mapped[datetime] = mapped_column(index=True)  # not moved by the queue's auto-refresh
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(16))  # logout | idle | expired | admin | disabled ...


class RecoveryCode(Base):
    """One-time codes for a lost authenticator: only their SHA-256 is kept; each works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Sign-in attempts per account, per client address or per known device, shared by every web process.
    Past a few free failures each attempt waits a doubling delay (capped), never a lock."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # e.g. "password:account:avery"
    failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class AuditLog(Base):
    """Each dashboard view of a case and each action, with who and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"), index=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    detail: Mapped[str] = mapped_column(Text, default="")


class MessageMedia(Base):
    """A photo or file that came with a patient's text (MMS): Twilio's link to it, kept on the conversation.
    Nurses see it only through the dashboard, which fetches it with the account's credentials."""

    __tablename__ = "message_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)  # the inbound text
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"), index=True)
    position: Mapped[int]  # n of MediaUrl<n>: the order the patient attached them in
    url: Mapped[str] = mapped_column(Text)  # Twilio's MediaUrl<n>: under the account's Messages resource
    content_type: Mapped[str] = mapped_column(String(100))  # MediaContentType<n>, as Twilio gave it
    created_at: Mapped[datetime]


class AdviceReview(Base):
    """The clinical lead's review of advice that did not hold up (issue #20, item 4): a home-care or
    see-within-3-days outcome after which the same patient reached a higher level within 7 days. One row per
    advice reviewed (the conversation that gave it); a second review of the same advice updates it."""

    __tablename__ = "advice_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), unique=True)  # gave the advice
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    # Where the higher level was reached: the same conversation (a check-in answered "worse") or a later one.
    later_conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    later_level: Mapped[str] = mapped_column(String(32))
    later_at: Mapped[datetime]
    reviewed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(SealedText("advice_reviews.note"), default="")  # about the patient: sealed
    content_purged_at: Mapped[datetime | None]  # the note removed (retention, erasure): the review stays
