"""One patient's record: everything held about them (export), and an erasure request carried out.

The export walks the schema rather than a list of tables: every row of every table that points at the
patient, at one of their conversations or at one of their cases (messages, cases and their audit trail,
check-ins, callbacks, the audit log of who looked at them), all columns, content opened. Staff numbers in
it are masked: the record is the patient's, not the nurses'.

Erasure (a documented request: its reference is recorded) removes the content of every row (as retention
does, whatever its age), cancels what was still to be sent, deletes the webhook receipts of their texts
and calls, and removes the number from the patient and from the messages. What stays is the skeleton:
ids, times, levels, outcomes, who did what. It is refused while a case is open (a nurse may still act on
it). An audit row says who carried out which request, and counts; never the content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.orm import Session

from ..checkins.schedule import cancel_pending
from ..escalation.cases import audit
from ..models import AuditLog, Base, Conversation, Escalation, Message, Patient, WebhookReceipt
from ..phones import mask
from ..runtime.envelope import Turn, run
from ..services import Services
from ..statuses import OPEN_STATUSES
from .retention import UNSENT, purge_patient

OWNERS = ("patients", "conversations", "escalations")  # a row that points at one of these is the patient's


class NotErasable(Exception):
    """str(): why, in words for the operator."""


def find_patient(session: Session, phone: str) -> Patient | None:
    return session.scalars(select(Patient).where(Patient.phone == phone)).first()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _rows(session: Session, table: Table, ids: dict[str, list[int]], phone: str | None) -> list[dict[str, Any]]:
    owned = [column.in_(ids[fk.column.table.name]) for column in table.c for fk in column.foreign_keys
             if fk.column.table.name in OWNERS]
    if table.name in OWNERS:
        owned.append(table.c.id.in_(ids[table.name]))
    if not owned:
        return []
    rows = session.connection().execute(select(table).where(or_(*owned)).order_by(*table.primary_key.columns))
    found = []
    for row in rows.mappings():
        item = {name: _plain(value) for name, value in row.items()}
        for name, value in item.items():
            if "phone" in name and value and value != phone:
                item[name] = mask(value)  # a nurse's or the fallback line's number
        found.append(item)
    return found


def export_patient(session: Session, patient: Patient, now: datetime) -> dict[str, Any]:
    conversations = list(session.scalars(select(Conversation.id).where(Conversation.patient_id == patient.id)))
    cases = list(session.scalars(select(Escalation.id).where(Escalation.patient_id == patient.id)))
    ids = {"patients": [patient.id], "conversations": conversations, "escalations": cases}
    tables = {table.name: _rows(session, table, ids, patient.phone) for table in Base.metadata.sorted_tables}
    return {
        "about": ("Everything this service holds about one patient, table by table (column names as stored). "
                  "Staff phone numbers are masked. Content removed by retention or erasure shows as empty, "
                  "with content_purged_at."),
        "exported_at": now.isoformat(),
        **{name: rows for name, rows in tables.items() if rows},
    }


def export_audited(svc: Services, patient_id: int, operator: str, reference: str) -> dict[str, Any]:
    def work(turn: Turn[dict[str, Any]]) -> dict[str, Any]:
        patient = turn.session.get(Patient, patient_id)
        assert patient is not None
        record = export_patient(turn.session, patient, turn.now)
        turn.session.add(AuditLog(at=turn.now, username=operator[:64], action="export_patient", patient_id=patient.id,
                                  detail=f"request {reference}" if reference else ""))
        return record

    return run(svc, work, patient_id=patient_id)


def erase_patient(svc: Services, patient_id: int, operator: str, reference: str) -> dict[str, int]:
    """Carry out an erasure request; returns what was removed (counts). Raises NotErasable."""

    def work(turn: Turn[dict[str, int]]) -> dict[str, int]:
        session, now = turn.session, turn.now
        patient = session.get(Patient, patient_id)
        assert patient is not None
        if patient.erased_at is not None:
            raise NotErasable(f"patient {patient.id} was erased on {patient.erased_at:%Y-%m-%d}")
        open_cases = list(session.scalars(select(Escalation.id).where(Escalation.patient_id == patient.id,
                                                                     Escalation.status.in_(OPEN_STATUSES))))
        if open_cases:
            raise NotErasable(f"case {open_cases[0]} is still open: resolve it first, then erase")
        cancel_pending(session, patient.id)
        cancelled = session.execute(
            update(Message).where(Message.patient_id == patient.id, Message.status.in_(UNSENT))
            .values(status="cancelled", next_attempt_at=None).execution_options(synchronize_session=False)).rowcount
        receipts = _delete_receipts(session, patient.id)
        purged = purge_patient(session, patient.id, now, before=None)
        if patient.phone is not None:
            for column in (Message.to_phone, Message.from_phone):
                session.execute(update(Message).where(column == patient.phone).values({column.key: None})
                                .execution_options(synchronize_session=False))
        patient.phone, patient.timezone, patient.erased_at = None, None, now
        counts = {"messages": purged.messages, "conversations": purged.conversations, "cases": purged.cases,
                  "unsent_cancelled": cancelled, "receipts_deleted": receipts}
        summary = ", ".join(f"{name} {n}" for name, n in counts.items())
        for case in session.scalars(select(Escalation).where(Escalation.patient_id == patient.id)):
            audit(session, case, "content_erased", now, actor=operator[:64], detail=f"erasure request {reference}")
        session.add(AuditLog(at=now, username=operator[:64], action="erase_patient", patient_id=patient.id,
                             detail=f"erasure request {reference}: {summary}"))
        return counts

    counts = run(svc, work, patient_id=patient_id)
    _checkpoint(svc)
    return counts


def _checkpoint(svc: Services) -> None:
    """SQLite: the write-ahead log still holds the pages as they were before the erasure; copy it into the
    file (where secure_delete zeroed the old rows) and empty it. Postgres keeps old row versions until
    VACUUM reuses their space (README, Patient data)."""
    if svc.engine.dialect.name != "sqlite":
        return
    connection = svc.engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def _delete_receipts(session: Session, patient_id: int) -> int:
    """The stored answers to the patient's own webhooks: keyed by their texts' and calls' SIDs."""
    sids = session.scalars(select(Message.twilio_sid).where(Message.patient_id == patient_id, Message.direction == "in",
                                                            Message.twilio_sid.is_not(None)))
    calls = session.scalars(select(Conversation.call_sid).where(Conversation.patient_id == patient_id,
                                                                Conversation.call_sid.is_not(None)))
    keys = [f"sms:{sid}" for sid in sids]
    conditions = [WebhookReceipt.key.in_(keys[start:start + 500]) for start in range(0, len(keys), 500)]
    conditions += [WebhookReceipt.key.like(f"voice:{call_sid}:%") for call_sid in calls]
    return sum(session.execute(delete(WebhookReceipt).where(condition)).rowcount for condition in conditions)
