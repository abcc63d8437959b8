"""The spool fed back through the normal path once the database answers: `flask spool replay`, and the
clock by itself (tick).

A text goes through the SMS runtime as if Twilio had just sent it (receive_sms, with the time it came):
its replies, never sent at the time, go out as texts through the outbox, and a red flag pages the nurse.
A call can only be a missed call now: a nurse callback (calls.missed_call). Each is taken once: the
runtime's receipts key on the MessageSid or CallSid, so a second replay (or two at once) changes nothing,
and replay.jsonl records each outcome so the next run does not even try. Oldest first, and it stops at
the first sign the database is still down, so a patient's texts are never taken out of order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..channels.sms import answered_by_twilio, read_inbound
from ..channels.voice import caller_phone
from ..engine.text import clean_for_storage
from ..logs import request_id
from ..runtime import calls
from ..runtime.sms import receive_sms
from ..services import Services
from .store import FAILED, REPLAYED, SKIPPED, Entry, Spool

log = logging.getLogger(__name__)


@dataclass
class Report:
    replayed: int = 0
    skipped: int = 0
    failed: int = 0
    waiting: int = 0  # still in the spool: the database is not answering yet


def tick(svc: Services) -> int:
    """The clock's job: nothing to do (no file) costs one stat; otherwise replay what waits."""
    return replay(svc).replayed


def replay(svc: Services) -> Report:
    spool = Spool(svc.settings.spool_dir)
    report = Report()
    pending = spool.pending()
    for index, entry in enumerate(pending):
        sid = entry.form.get("MessageSid") or entry.form.get("CallSid") or entry.id
        try:
            with request_id(clean_for_storage(sid, limit=64)):  # its log lines and rows, as the webhook's would be
                result, detail = _replay_one(svc, entry)
        except Exception as error:
            if _database_down(error):  # wait for the next run, in order
                report.waiting = len(pending) - index
                log.warning("spool.waiting entries=%d error=%s", report.waiting, type(error).__name__)
                break
            log.exception("spool.replay_failed entry=%s", entry.id)
            spool.record(entry, FAILED, svc.clock(), type(error).__name__)
            report.failed += 1
            continue
        spool.record(entry, result, svc.clock(), detail)
        if result == REPLAYED:
            report.replayed += 1
        else:
            report.skipped += 1
        log.info("spool.%s entry=%s kind=%s", result, entry.id, entry.kind)
    return report


def _database_down(error: Exception) -> bool:
    """No connection, a lock held elsewhere, a connection cut: the database, not this entry."""
    return isinstance(error, (OperationalError, InterfaceError)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def _replay_one(svc: Services, entry: Entry) -> tuple[str, str]:
    if entry.kind == "voice":
        call_sid = clean_for_storage(entry.form.get("CallSid", ""), limit=64).strip() or f"spool-{entry.id}"
        opened = calls.missed_call(svc, call_sid=call_sid, phone=caller_phone(entry.form.get("From"),
                                                                               svc.settings.default_region))
        return REPLAYED, "missed call: nurse callback" if opened else "the call had ended with an outcome"
    if entry.kind != "sms":
        return SKIPPED, f"unknown kind {entry.kind!r}"
    inbound = read_inbound(entry.form, svc.settings.default_region)
    if entry.answered == "staff" or svc.roster.staff_by_phone(inbound.phone) is not None:
        return SKIPPED, "a nurse's text: they were told it did not go through"
    if inbound.phone is None:
        return SKIPPED, "no number to answer"
    if inbound.channel == "whatsapp" and not svc.settings.whatsapp_enabled:
        return SKIPPED, "WhatsApp is off: not triaged (the fallback gave the clinic's number and 911)"
    # The fallback confirmed a STOP already (or Twilio did): the opt-out is recorded, not confirmed twice.
    answered = answered_by_twilio(svc, inbound) or ("stop" if entry.answered == "stop" else None)
    receive_sms(svc, phone=inbound.phone, text=inbound.text, sid=inbound.sid or f"spool-{entry.id}",
                answered_by_twilio=answered, media=inbound.media, received_at=entry.received_at,
                channel=inbound.channel)
    return REPLAYED, ""
