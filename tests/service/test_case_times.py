"""The times a case is measured by (issue #20, item 2): paged, acknowledged, first contact (a relayed text or
a call the nurse was put through on), resolved; kept on the case, shown on the case page, and filled in from
the audit trail for cases opened before they were kept (migration 0003)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from service.clock import tick
from service.db import make_engine
from service.migrate import upgrade
from service.models import Escalation, UTCDateTime
from tests.conftest import NURSE_AVERY, NURSE_BLAKE, FakeClock, Twilio, fresh_database, play
from tests.dashboard_client import create_user, login
from tests.service.test_escalation_lifecycle import EMERGENCY
from tests.service.test_voice import Call


def case(svc, case_id: int) -> Escalation:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        found = session.get(Escalation, case_id)
        assert found is not None
        return found


def test_each_time_is_kept_once_when_it_happens(twilio: Twilio, svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    opened = clock.now
    play(twilio, EMERGENCY)
    clock.advance(minutes=2, seconds=30)
    tick(svc)  # no ACK in 2 minutes: paged again, and the first page's time stays
    assert case(svc, 1).pages_sent == 2
    clock.advance(minutes=1)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    clock.advance(minutes=4)
    twilio.sms("MSG 1 Are you able to get to the ED? I can call an ambulance.", frm=NURSE_AVERY)
    clock.advance(minutes=2)
    twilio.sms("MSG 1 Reply when you can.", frm=NURSE_AVERY)
    clock.advance(minutes=10)
    twilio.sms("DONE 1 going to ED by ambulance", frm=NURSE_AVERY)
    done = case(svc, 1)
    assert done.created_at == done.paged_at == opened
    assert done.acknowledged_at == opened + timedelta(minutes=3, seconds=30)
    assert (done.first_contact_at, done.first_contact_via) == (opened + timedelta(minutes=7, seconds=30), "sms")
    assert done.resolved_at == opened + timedelta(minutes=19, seconds=30)


def test_a_caller_put_through_to_the_nurse_is_a_first_contact_by_phone(twilio: Twilio, svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    call = Call(twilio)
    call.start()
    number = call.press("1").one("Number")  # fainted: 911 advice, and put through to the nurse on call
    clock.advance(seconds=25)
    nurse_leg = Call(twilio, frm="+12125550100", sid="CA" + "b" * 32)
    nurse_leg.post(number.get("url") or "")
    twilio.signed_post(nurse_leg.reply.one("Gather").get("action"), {"CallSid": nurse_leg.sid, "Digits": "1"})  # type: ignore[union-attr]
    reached = case(svc, 1)
    assert (reached.first_contact_at, reached.first_contact_via) == (clock.now, "voice")
    assert reached.acknowledged_at is None  # talking is not taking the case: the queue still shows it unowned


@pytest.fixture
def avery(app: Flask) -> FlaskClient:
    assert create_user(app, "avery", "nurse", "Nurse Avery").exit_code == 0
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def test_the_case_page_shows_the_times_and_how_long_after_opening(avery: FlaskClient, twilio: Twilio,
                                                                  clock: FakeClock) -> None:
    play(twilio, EMERGENCY)
    page = avery.get("/dashboard/cases/1").get_data(as_text=True)
    assert 'data-time="Paged">Mon 02 Mar 10:00 <span class="muted">(&lt;1 min after opening)' in page
    assert 'data-time="First contact"><span class="muted">not yet' in page
    clock.advance(minutes=6)
    twilio.sms("ACK 1", frm=NURSE_BLAKE)
    clock.advance(minutes=20)
    twilio.sms("MSG 1 Calling you now", frm=NURSE_BLAKE)
    page = avery.get("/dashboard/cases/1").get_data(as_text=True)
    assert 'data-time="Acknowledged">Mon 02 Mar 10:06 <span class="muted">(6 min after opening)' in page
    assert 'data-time="First contact">Mon 02 Mar 10:26 <span class="muted">(by text, 26 min after opening)' in page
    assert 'data-time="Resolved"><span class="muted">not yet' in page


def test_cases_from_before_get_their_times_from_the_audit_trail(tmp_path: Path) -> None:
    t0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    when = UTCDateTime()
    patients = sa.table("patients", sa.column("id"), sa.column("phone"), sa.column("language"),
                        sa.column("privacy_notice_sent"), sa.column("created_at", when))
    # The columns as they were at 0002 (0009 renames severity to disposition).
    escalations = sa.table("escalations", *(sa.column(name) for name in (
        "id", "patient_id", "level", "severity", "red_flags", "quotes", "reason", "status", "chain_position",
        "repages_done", "pages_sent")), sa.column("created_at", when), sa.column("updated_at", when))
    events = sa.table("escalation_events", sa.column("escalation_id"), sa.column("at", when), sa.column("event"),
                      sa.column("actor"), sa.column("detail"))
    trail = {1: [("paged", 1), ("paged", 3), ("call_accepted", 9), ("nurse_message", 4)],  # texted first
             2: [("paged", 0), ("nurse_message", 12), ("call_accepted", 6)],  # put through on a call first
             3: [("opened", 0)]}  # never paged (a clinic-queue case)
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            upgrade(engine, "0002")
            with engine.begin() as connection:
                connection.execute(sa.insert(patients), [{"id": 1, "phone": "+12125550123", "language": "en",
                                                          "privacy_notice_sent": True, "created_at": t0}])
                for case_id, rows in trail.items():
                    connection.execute(sa.insert(escalations), [{
                        "id": case_id, "patient_id": 1, "level": "ed_now", "severity": "emergency", "red_flags": "[]",
                        "quotes": "[]", "reason": "", "status": "resolved", "chain_position": 0, "repages_done": 0,
                        "pages_sent": 1, "created_at": t0, "updated_at": t0}])
                    connection.execute(sa.insert(events), [{"escalation_id": case_id, "at": t0 + timedelta(minutes=m),
                                                            "event": name, "actor": "system", "detail": ""}
                                                           for name, m in rows])
            upgrade(engine, "0003")
            kept = sa.table("escalations", sa.column("id"), sa.column("paged_at", when),
                            sa.column("first_contact_at", when), sa.column("first_contact_via"))
            with engine.connect() as connection:
                found = {row.id: (row.paged_at, row.first_contact_at, row.first_contact_via)
                         for row in connection.execute(sa.select(kept))}
        finally:
            engine.dispose()
    minutes = timedelta(minutes=1)
    assert found == {1: (t0 + minutes, t0 + 4 * minutes, "sms"), 2: (t0, t0 + 6 * minutes, "voice"),
                     3: (None, None, None)}
