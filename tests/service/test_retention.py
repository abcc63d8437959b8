"""RETENTION_DAYS: the clock's retention job purges patient content past the limit and nothing else. Cases,
levels, outcomes, red-flag names, times and the audit trail stay; content still in use (an open case, a
text not yet sent) waits; newer content is untouched."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.db import transaction
from service.features import jobs
from service.models import Base, Conversation, Escalation, EscalationEvent, Message, Patient, WebhookReceipt
from service.outbox.outbound import queue_sms
from service.privacy.rotate import sealed_columns
from service.services import Services
from service.settings import Settings
from tests.conftest import NURSE_AVERY, PATIENT, FakeClock, Twilio
from tests.dashboard_client import create_user, login
from tests.service.test_data_at_rest import raw_dump, running

OPEN_CASE = "+12125550166"  # a case nobody resolved: in use, whatever its age
NEWER = "+12125550188"  # wrote 20 days later: inside the limit
DAYS = 30


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, retention_days=DAYS)


def retention(svc: Services) -> int:
    [job] = [job for job in jobs() if job.name == "retention"]  # the clock runs it with every other job
    return job.run(svc)


def patient_id(svc: Services, phone: str) -> int:
    with svc.factory() as session:
        return session.scalars(select(Patient.id).where(Patient.phone == phone)).one()


def skeleton(svc: Services) -> dict[str, list[Any]]:
    """Every row of every table without its content columns: what retention must leave exactly as it was.
    (conversations.version counts saves: the purge is one.) Receipts are checked on their own."""
    content = {(table.name, column.name) for table, column in sealed_columns()}
    found = {}
    with svc.factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "webhook_receipts":
                continue
            columns = [c for c in table.c if (table.name, c.name) not in content
                       and c.name not in ("content_purged_at", "version")]
            found[table.name] = session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
    return found


def test_content_past_the_limit_is_purged_and_nothing_else(app: Flask, twilio: Twilio, svc: Services,
                                                           clock: FakeClock) -> None:
    start = clock()
    twilio.sms("hi, my back went into spasm lifting zucchini crates")
    twilio.sms("no")
    twilio.sms("I can't control my bladder since the zucchini harvest")
    twilio.sms("MSG 1 Please go to the ER now, Mrs Marrow", frm=NURSE_AVERY)
    twilio.sms("DONE 1 Spoke with her: suspected cauda equina", frm=NURSE_AVERY)
    twilio.sms("WHO", frm=NURSE_AVERY)  # a nurse's text tied to no case
    twilio.sms("hi, my back hurts after the squash festival", frm=OPEN_CASE)
    twilio.sms("yes", frm=OPEN_CASE)  # fainting: case 2, never resolved
    with transaction(svc.factory) as session:  # a text still waiting for the outbox
        queue_sms(session, to=OPEN_CASE, body="a text still to go", kind="notice", now=clock(),
                  patient_id=patient_id(svc, OPEN_CASE))
    clock.advance(days=20)
    twilio.sms("hi, my back is stiff from the pumpkin parade", frm=NEWER)
    twilio.sms("no", frm=NEWER)
    clock.advance(days=11)  # day 31: the first texts are past 30 days, the newer ones are not
    before, conversations_before = skeleton(svc), states(svc)
    receipts_before = receipt_times(svc)

    assert retention(svc) > 0
    now = clock()
    assert skeleton(svc) == before  # cases, levels, statuses, times, red-flag names, events, audit log
    old, open_case, newer = (patient_id(svc, p) for p in (PATIENT, OPEN_CASE, NEWER))
    with svc.factory() as session:
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        cases = {case.patient_id: case for case in session.scalars(select(Escalation))}
        events = session.execute(select(EscalationEvent.escalation_id, EscalationEvent.event, EscalationEvent.detail)
                                 .order_by(EscalationEvent.id)).all()
    old_case = cases[old]
    old_messages = [m for m in messages if m.patient_id == old or m.escalation_id == old_case.id
                    or (m.patient_id is None and m.escalation_id is None)]  # WHO: no patient, no case
    assert len(old_messages) >= 8 and all(m.body == "" and m.content_purged_at == now for m in old_messages)
    kept = [m for m in messages if m not in old_messages]
    assert kept and all(m.body and m.content_purged_at is None for m in kept)
    assert "a text still to go" in [m.body for m in kept]
    assert any("pumpkin parade" in m.body for m in kept) and any("squash festival" in m.body for m in kept)

    assert (old_case.quotes, old_case.note, old_case.content_purged_at) == ([], None, now)
    assert (old_case.level, old_case.status, old_case.resolved_at) == ("ed_now", "resolved", start)
    assert (cases[open_case].status, cases[open_case].content_purged_at) == ("paged", None)
    old_events = {(event, detail) for case_id, event, detail in events if case_id == old_case.id}
    assert ("resolved", "") in old_events  # the note's words go; that it was resolved, by whom and when stay
    assert any(event == "opened" and detail.startswith("ed_now") for event, detail in old_events)

    conversations = states(svc)
    purged = conversations[old]
    assert purged["answers"] == {} and purged["quotes"] == []
    assert {k: v for k, v in purged.items() if k not in ("answers", "quotes")} == {
        k: v for k, v in conversations_before[old].items() if k not in ("answers", "quotes")}
    assert conversations_before[old]["answers"]  # there was something to purge
    assert conversations[open_case] == conversations_before[open_case]
    assert conversations[newer] == conversations_before[newer]

    receipts = receipt_times(svc)
    assert receipts == [t for t in receipts_before if t > now - timedelta(days=DAYS)] and receipts
    assert "zucchini" not in raw_dump(svc.settings.database_url)  # sealed, and then purged
    assert retention(svc) == 0  # done once: the next tick finds nothing
    assert case_page(app, old_case.id).count("(content removed: retention or erasure)") == len(
        [m for m in old_messages if m.patient_id == old or m.escalation_id == old_case.id])


def test_the_job_is_the_clocks_and_its_timers_follow_the_setting(svc: Services) -> None:
    [job] = [job for job in jobs() if job.name == "retention"]
    assert {timer.column.key for timer in job.timers} == {"created_at", "updated_at", "reviewed_at"}
    assert all(timer.after is not None and timer.after(svc.settings) == timedelta(days=DAYS) for timer in job.timers)
    unset = replace(svc.settings, retention_days=None)
    assert all(timer.after(unset) is None for timer in job.timers if timer.after is not None)


def test_unset_keeps_everything(settings: Settings, clock: FakeClock) -> None:
    with running(replace(settings, retention_days=None), clock) as app:
        Twilio(app.test_client()).sms("hi, my back went into spasm lifting zucchini crates")
        clock.advance(days=3650)
        assert retention(app.extensions["triage"]) == 0
        with app.extensions["triage"].factory() as session:
            assert session.scalars(select(Message.body).where(Message.direction == "in")).all() == [
                "hi, my back went into spasm lifting zucchini crates"]


# --- helpers ---------------------------------------------------------------------------------------


def states(svc: Services) -> dict[int, dict[str, Any]]:
    with svc.factory() as session:
        return {c.patient_id: c.state for c in session.scalars(select(Conversation))}


def receipt_times(svc: Services) -> list[Any]:
    with svc.factory() as session:
        return list(session.scalars(select(WebhookReceipt.created_at).order_by(WebhookReceipt.created_at)))


def case_page(app: Flask, case_id: int) -> str:
    create_user(app, "avery", "nurse", "Nurse Avery")
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client.get(f"/dashboard/cases/{case_id}").get_data(as_text=True)

