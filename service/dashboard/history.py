"""A patient's whole history for the case page: texts and calls both ways, case events, check-ins,
conversation outcomes and voicemails, in time order."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .. import media as media_rows
from ..models import Checkin, Conversation, Escalation, EscalationEvent, Message, Patient
from ..phones import mask
from ..services import Services
from .queue import level_words

HISTORY_LIMIT = 1000  # messages; a longer history shows its latest part
KIND_WORDS = {
    "answer": "answer", "reply": "reply", "prompt": "spoken", "page": "page", "checkin": "check-in",
    "relay": "nurse message", "forward": "forwarded to nurse", "notice": "notice", "reminder": "reminder",
    "fallback_call": "call to fallback line", "nurse_command": "nurse SMS command", "nurse_reply": "answer to nurse",
    "late": "answer (reached us late: the line was down)",
    "callback": "callback call to nurse", "callback_note": "callback note to nurse",
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    side: str  # patient | line | staff | case | checkin | conversation
    who: str
    what: str
    text: str = ""
    channel: str = ""
    status: str = ""
    link: str = ""
    case_id: int | None = None
    rank: int = 1  # same time (one request writes many rows): conversation start, texts, outcome, case events
    seq: int = 0  # the row's id: the order rows were written in
    media: tuple[MediaLink, ...] = ()  # photos or files the patient sent with this text


@dataclass(frozen=True)
class MediaLink:
    """A patient's photo or file, as the case page links it: through /dashboard/media/<id>, never Twilio's URL."""

    id: int
    content_type: str
    inline: bool  # a picture the page shows (others are offered as a download)


def _staff_name(svc: Services, phone: str | None) -> str:
    staff = svc.roster.staff_by_phone(phone)
    return staff.name if staff else mask(phone)


def _message_entry(svc: Services, message: Message, patient: Patient) -> Entry:
    kind = KIND_WORDS.get(message.kind, message.kind)
    status = message.delivery_status or message.status
    if message.delivery_error_code:
        status += f" (error {message.delivery_error_code})"
    text = message.body
    if message.channel == "voice" and message.direction == "out" and message.status != "twiml" and not message.call_url:
        text = "(automated call)"  # the body is the call's TwiML
    if message.content_purged_at is not None:
        text = "(content removed: retention or erasure)"
    if message.direction == "in":
        from_patient = message.from_phone is None or message.from_phone == patient.phone
        who = "Patient" if from_patient else _staff_name(svc, message.from_phone)
        return Entry(message.created_at, "patient" if from_patient else "staff", who, kind, text,
                     message.channel, "", case_id=message.escalation_id, seq=message.id)
    to_patient = message.to_phone is None or message.to_phone == patient.phone
    who = "To patient" if to_patient else f"To {_staff_name(svc, message.to_phone)}"
    return Entry(message.created_at, "line" if to_patient else "staff", who, kind, text, message.channel,
                 status, case_id=message.escalation_id, seq=message.id)


def _with_media(entry: Entry, media: list[Any]) -> Entry:
    if not media:
        return entry
    links = tuple(MediaLink(m.id, m.content_type, m.content_type in media_rows.INLINE_TYPES) for m in media)
    return replace(entry, media=links)


def patient_history(svc: Services, session: Session, patient: Patient, zone: ZoneInfo) -> list[Entry]:
    cases = session.scalars(select(Escalation).where(Escalation.patient_id == patient.id)).all()
    case_ids = [c.id for c in cases]
    condition = Message.patient_id == patient.id
    if case_ids:
        condition = or_(condition, Message.escalation_id.in_(case_ids))
    messages = session.scalars(select(Message).where(condition).order_by(Message.id.desc())
                               .limit(HISTORY_LIMIT)).all()
    attached = media_rows.for_messages(session, [m.id for m in messages if m.direction == "in"])
    entries = [_with_media(_message_entry(svc, m, patient), attached.get(m.id, [])) for m in messages]
    for case in cases:
        if case.recording_url:
            entries.append(Entry(case.created_at, "patient", "Patient", "voicemail", "Voicemail recording",
                                 "voice", link=case.recording_url, case_id=case.id, rank=2))
    if case_ids:
        for event in session.scalars(select(EscalationEvent).where(EscalationEvent.escalation_id.in_(case_ids))):
            entries.append(Entry(event.at, "case", event.actor, event.event.replace("_", " "), event.detail,
                                 case_id=event.escalation_id, rank=3, seq=event.id))
    for conversation in session.scalars(select(Conversation).where(Conversation.patient_id == patient.id)):
        entries.append(Entry(conversation.started_at, "conversation", "Line", "conversation started",
                             f"flow {conversation.flow_id}", conversation.channel, rank=0, seq=conversation.id))
        if conversation.outcome:
            detail = level_words(conversation.level) if conversation.level else ""
            if conversation.disposition:
                detail += f" ({conversation.disposition.replace('_', ' ')})"
            entries.append(Entry(conversation.updated_at, "conversation", "Line",
                                 f"outcome {conversation.outcome}", detail, conversation.channel, rank=2,
                                 seq=conversation.id))
    for checkin in session.scalars(select(Checkin).where(Checkin.patient_id == patient.id)):
        when = f"due {checkin.due_at.astimezone(zone):%a %d %b %H:%M}"
        entries.append(Entry(checkin.created_at, "checkin", "Line", "check-in scheduled",
                             f"{checkin.ask}, {when}", "sms", checkin.status, rank=4, seq=checkin.id))
        if checkin.answered_at:
            entries.append(Entry(checkin.answered_at, "checkin", "Patient", "check-in answered", checkin.ask, "sms",
                                 rank=4, seq=checkin.id))
    return sorted(entries, key=lambda e: (e.at, e.rank, e.seq))
