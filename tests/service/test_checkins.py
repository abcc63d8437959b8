"""Check-in texts over signed webhooks and the real clock job, with a fake clock.

The clock starts Monday 2026-03-02 15:00 UTC = 10:00 in New York; PATIENT is a 212 (New York) number.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from service import create_app
from service.checkins import sender
from service.checkins.window import next_send_time, patient_zone, quiet
from service.clock import tick
from service.models import Checkin, Conversation, Message, Patient
from service.services import Services
from tests.conftest import ALL_CLEAR, NURSE_AVERY, NURSE_BLAKE, PATIENT, SUPERVISOR, FakeClock, Twilio, play

NEW_YORK = ZoneInfo("America/New_York")
NURSES = (NURSE_AVERY, NURSE_BLAKE, "+12125550103", SUPERVISOR)


def texts_to(fake, phone: str = PATIENT) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == phone]


def checkin_texts(fake, phone: str = PATIENT) -> list[str]:  # type: ignore[no-untyped-def]
    return [b for b in texts_to(fake, phone) if ": checking in." in b]


def reminder_texts(fake, phone: str = PATIENT) -> list[str]:  # type: ignore[no-untyped-def]
    return [b for b in texts_to(fake, phone) if "just checking in again" in b]


def pages(fake) -> list[str]:  # type: ignore[no-untyped-def]
    """Pages to whichever nurse the roster has on call."""
    return [m["body"] for m in fake.messages if m["to"] in NURSES and "ACK" in m["body"]]


def run_clock(svc: Services, clock: FakeClock, until: datetime, every: timedelta = timedelta(minutes=10)) -> None:
    """Let time pass with the clock process running: every job, every `every`."""
    while clock.now < until:
        clock.now = min(until, clock.now + every)
        tick(svc)


def checkins(svc: Services) -> list[Checkin]:
    with svc.factory() as session:
        return list(session.scalars(select(Checkin).order_by(Checkin.id)))


def local(at: datetime) -> datetime:
    return at.astimezone(NEW_YORK)


def home_care(twilio: Twilio, clock: FakeClock) -> datetime:
    play(twilio, "hi, my back went into spasm", *ALL_CLEAR)
    return clock.now


def sent_times(svc: Services, phone: str = PATIENT) -> list[datetime]:
    with svc.factory() as session:
        return list(session.scalars(select(Message.sent_at).where(Message.kind == "checkin", Message.to_phone == phone,
                                                                  Message.status == "sent").order_by(Message.id)))


# --- the schedule ----------------------------------------------------------------------------------

def test_home_care_schedules_24h_and_72h_and_each_goes_once_when_due(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    rows = checkins(svc)
    assert [(c.ask, c.status, c.due_at - start) for c in rows] == [
        ("ci_how_are_you", "pending", timedelta(hours=24)), ("ci_how_are_you", "pending", timedelta(hours=72))]

    run_clock(svc, clock, start + timedelta(hours=23, minutes=50))
    assert checkin_texts(twilio_fake) == []
    run_clock(svc, clock, start + timedelta(hours=24))
    [text] = checkin_texts(twilio_fake)
    assert text.startswith("Test Spine Clinic: checking in.") and "1 Better, 2 Same, 3 Worse" in text
    assert "911" in text and len(text) <= 160  # TCPA healthcare exemption: 160 characters or fewer
    for word in ("back", "spasm", "pain"):  # HIPAA minimum necessary: no symptoms named
        assert word not in text.lower()
    tick(svc)
    tick(svc)
    assert len(checkin_texts(twilio_fake)) == 1
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation)).one()
        assert (conversation.status, conversation.node) == ("active", "ci_how_are_you")
        first = session.get(Checkin, rows[0].id)
        assert first is not None and first.status == "sent" and first.sent_at == start + timedelta(hours=24)
        [message] = session.scalars(select(Message).where(Message.checkin_id == first.id))
        assert (message.kind, message.status) == ("checkin", "sent")


def test_checkins_list_shows_due_time_utc_and_local_with_masked_number(twilio: Twilio, app, svc, clock) -> None:
    home_care(twilio, clock)
    result = app.test_cli_runner().invoke(args=["checkins", "list"])
    assert result.exit_code == 0, result.output
    assert "2026-03-03 15:00 UTC" in result.output and "2026-03-03 10:00 EST" in result.output
    assert "2026-03-05 15:00 UTC" in result.output and "America/New_York" in result.output
    assert "+1******0123" in result.output and PATIENT not in result.output
    assert "pending" in result.output and "2 pending" in result.output


# --- quiet hours ----------------------------------------------------------------------------------

def test_checkin_due_at_night_waits_for_the_morning_but_the_page_does_not(twilio: Twilio, twilio_fake, svc,
                                                                       clock) -> None:
    clock.now = datetime(2026, 3, 3, 1, 0, tzinfo=UTC)  # Monday 20:00 in New York
    play(twilio, "hi", "NURSE")
    assert len(pages(twilio_fake)) == 1  # the nurse is paged at once, at any hour
    [row] = checkins(svc)
    assert (row.ask, local(row.due_at).hour) == ("ci_nurse_reached", 22)

    run_clock(svc, clock, datetime(2026, 3, 3, 12, 59, tzinfo=UTC))  # until 07:59 in New York
    assert checkin_texts(twilio_fake) == []
    run_clock(svc, clock, datetime(2026, 3, 3, 13, 30, tzinfo=UTC))  # 08:30
    [text] = checkin_texts(twilio_fake)
    assert "Has a nurse reached you yet?" in text
    [sent] = sent_times(svc)
    assert 8 <= local(sent).hour and local(sent) <= datetime(2026, 3, 3, 8, 30, tzinfo=NEW_YORK)


def test_quiet_hours_follow_the_patients_own_zone(twilio: Twilio, twilio_fake, svc, clock) -> None:
    los_angeles = "+13105550123"
    clock.now = datetime(2026, 3, 3, 2, 30, tzinfo=UTC)  # 21:30 in New York, 18:30 in Los Angeles
    play(twilio, "hi", *ALL_CLEAR, frm=los_angeles)
    run_clock(svc, clock, clock.now + timedelta(hours=24, minutes=10))
    # 18:30 next day in Los Angeles: inside texting hours there, though it is night in New York.
    assert len(checkin_texts(twilio_fake, los_angeles)) == 1


@pytest.mark.parametrize("timezone, phone, zone", [
    (None, "+12125550123", "America/New_York"),
    (None, "+13105550123", "America/Los_Angeles"),
    ("Europe/Madrid", "+13105550123", "Europe/Madrid"),  # the roster / patient record wins
    (None, "+447700900123", "America/Chicago"),  # phonenumbers cannot tell: the clinic's zone
    ("Not/AZone", None, "America/Chicago"),
])
def test_patient_zone(timezone, phone, zone) -> None:  # type: ignore[no-untyped-def]
    assert patient_zone(timezone, phone, "America/Chicago").key == zone


def test_send_window_rules() -> None:
    at = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 New York
    assert next_send_time(at, NEW_YORK, []) == at
    night = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)  # 22:00
    morning = next_send_time(night, NEW_YORK, [], spread_key=12345)
    assert not quiet(morning, NEW_YORK) and local(morning).date().day == 3
    assert timedelta(0) <= local(morning) - datetime(2026, 3, 3, 8, 0, tzinfo=NEW_YORK) < timedelta(minutes=30)
    # One a day: a second text the same local day waits for tomorrow's morning.
    assert local(next_send_time(at + timedelta(hours=5), NEW_YORK, [at])).date().day == 3
    # Three a week: Mon, Tue, Wed used -> nothing until the next Monday.
    week = [at + timedelta(days=d) for d in range(3)]
    assert local(next_send_time(at + timedelta(days=3), NEW_YORK, week)).date() == datetime(2026, 3, 9).date()
    # Across the spring-forward night (8 March 2026 in New York) the morning is still 08:00 local.
    dst = next_send_time(datetime(2026, 3, 8, 5, 0, tzinfo=UTC), NEW_YORK, [])
    assert local(dst).hour == 8 and local(dst).utcoffset() == timedelta(hours=-4)


# --- catch-up after downtime -----------------------------------------------------------------------

def test_after_downtime_overdue_checkins_go_once_newest_only(twilio: Twilio, twilio_fake, svc, clock) -> None:
    other = "+12125550177"
    start = home_care(twilio, clock)
    play(twilio, "hello", *ALL_CLEAR, frm=other)
    clock.now = start + timedelta(hours=80)  # the clock was down for three days: 24 h and 72 h both overdue
    tick(svc)
    for _ in range(5):
        clock.advance(minutes=10)
        tick(svc)
    assert len(checkin_texts(twilio_fake)) == 1 and len(checkin_texts(twilio_fake, other)) == 1
    assert sorted(c.status for c in checkins(svc)) == ["sent", "sent", "skipped", "skipped"]
    run_clock(svc, clock, clock.now + timedelta(days=2), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 1  # and no repeat later (the reminder is another text)


def test_downtime_ending_at_night_catches_up_in_the_morning(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    clock.now = start + timedelta(hours=36)  # Tuesday 22:00 in New York; the 24 h check-in is overdue
    tick(svc)
    assert checkin_texts(twilio_fake) == []
    run_clock(svc, clock, datetime(2026, 3, 4, 13, 30, tzinfo=UTC))  # Wednesday 08:30
    assert len(checkin_texts(twilio_fake)) == 1
    [sent] = sent_times(svc)
    assert local(sent).hour == 8


# --- replies ---------------------------------------------------------------------------------------

def checkin_sent(twilio: Twilio, svc: Services, clock: FakeClock) -> datetime:
    start = home_care(twilio, clock)
    run_clock(svc, clock, start + timedelta(hours=24))
    return start


def test_better_gets_prevention_tips_and_no_more_checkins(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)
    [reply] = play(twilio, "feeling much better thanks")
    assert "posture" in reply.text and "lift with your legs" in reply.text and "911" in reply.text
    assert [c.status for c in checkins(svc)] == ["answered", "cancelled"]
    run_clock(svc, clock, start + timedelta(days=5), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 1 and reminder_texts(twilio_fake) == []
    assert pages(twilio_fake) == []


def test_same_gets_advice_and_the_next_checkin(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)
    [reply] = play(twilio, "2")
    assert "20 minutes" in reply.text and "911" in reply.text
    assert [c.status for c in checkins(svc)] == ["answered", "pending"]
    run_clock(svc, clock, start + timedelta(hours=72), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 2
    assert [c.status for c in checkins(svc)] == ["answered", "sent"]


def test_worse_runs_the_red_flag_screen_again_and_escalates(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)
    worse, _, ed = play(twilio, "worse", "no", "yes")  # worse; not faint; bladder control lost
    assert "fainted" in worse.text
    assert "emergency department now" in ed.text
    [page] = pages(twilio_fake)
    assert "bladder" in page.lower()
    assert [c.status for c in checkins(svc)] == ["answered", "cancelled"]  # the nurse takes over
    run_clock(svc, clock, start + timedelta(days=4), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 1


def test_red_flag_phrase_in_a_checkin_reply_escalates_at_once(twilio: Twilio, twilio_fake, svc, clock) -> None:
    checkin_sent(twilio, svc, clock)
    [reply] = play(twilio, "my legs went numb this morning")
    assert "emergency department now" in reply.text
    assert len(pages(twilio_fake)) == 1


def test_nurse_during_a_checkin_pages_and_asks_later_if_reached(twilio: Twilio, twilio_fake, svc, clock) -> None:
    checkin_sent(twilio, svc, clock)
    [reply] = play(twilio, "NURSE")
    assert "A nurse will call you today" in reply.text
    assert len(pages(twilio_fake)) == 1
    assert [(c.ask, c.status) for c in checkins(svc)] == [
        ("ci_how_are_you", "answered"), ("ci_how_are_you", "cancelled"), ("ci_nurse_reached", "pending")]


def test_no_reply_gets_one_reminder_then_stops(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)  # Tuesday 10:00 New York
    run_clock(svc, clock, start + timedelta(days=7), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 1
    [reminder] = reminder_texts(twilio_fake)
    assert "Reply 1 Better, 2 Same, 3 Worse." in reminder and "NURSE" in reminder and "911" in reminder
    times = sent_times(svc)
    # One scheduled text a day (TCPA): the reminder waits for the next morning.
    assert local(times[1]).date() == datetime(2026, 3, 4).date() and local(times[1]).hour == 8
    assert [c.status for c in checkins(svc)] == ["expired", "cancelled"]
    with svc.factory() as session:
        assert session.scalars(select(Conversation.status)).one() == "done"


def test_reply_after_the_reminder_is_still_understood(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)
    run_clock(svc, clock, start + timedelta(hours=48), every=timedelta(minutes=30))  # reminder on Wednesday
    clock.advance(hours=6)
    [reply] = play(twilio, "better")
    assert "posture" in reply.text
    assert [c.status for c in checkins(svc)] == ["answered", "cancelled"]


def test_checkin_waits_while_the_patient_is_in_a_new_triage(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    clock.now = start + timedelta(hours=23, minutes=55)
    play(twilio, "RESTART")  # answering the screen again when the check-in falls due
    run_clock(svc, clock, start + timedelta(hours=24, minutes=10), every=timedelta(minutes=5))
    assert checkin_texts(twilio_fake) == []
    play(twilio, *ALL_CLEAR)  # home care again: a new 24 h / 72 h schedule replaces the old one
    assert [c.status for c in checkins(svc)] == ["cancelled", "cancelled", "pending", "pending"]


# --- opt-out ---------------------------------------------------------------------------------------

def test_opted_out_patients_get_nothing(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    play(twilio, "STOP")
    assert [c.status for c in checkins(svc)] == ["cancelled", "cancelled"]
    run_clock(svc, clock, start + timedelta(days=4), every=timedelta(minutes=30))
    assert checkin_texts(twilio_fake) == []


def test_opted_out_at_the_carrier_is_not_texted(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    with svc.factory() as session, session.begin():  # as the carrier's 21610 failure hook would
        session.scalars(select(Patient)).one().opted_out_at = clock.now
    run_clock(svc, clock, start + timedelta(days=4), every=timedelta(minutes=30))
    assert checkin_texts(twilio_fake) == []
    assert [c.status for c in checkins(svc)] == ["cancelled", "cancelled"]


def test_stop_in_reply_to_a_checkin_means_no_reminder(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = checkin_sent(twilio, svc, clock)
    play(twilio, "stop")
    run_clock(svc, clock, start + timedelta(days=5), every=timedelta(minutes=30))
    assert len(checkin_texts(twilio_fake)) == 1
    assert [c.status for c in checkins(svc)] == ["answered", "cancelled"]


# --- restarts --------------------------------------------------------------------------------------

def test_restart_neither_loses_nor_repeats_a_checkin(twilio: Twilio, twilio_fake, app, settings, clock) -> None:
    first = app.extensions["triage"]
    start = home_care(twilio, clock)
    run_clock(first, clock, start + timedelta(hours=24))
    assert len(checkin_texts(twilio_fake)) == 1
    play(twilio, "same")
    first.shutdown()
    first.engine.dispose()

    clock.advance(hours=40)  # the clock is down across the 72 h check-in's due time
    restarted = create_app(settings, clock=clock)
    second: Services = restarted.extensions["triage"]
    try:
        for _ in range(3):
            tick(second)
        assert len(checkin_texts(twilio_fake)) == 1  # down time: the 72 h one is not due yet
        run_clock(second, clock, start + timedelta(hours=72, minutes=10))
        assert len(checkin_texts(twilio_fake)) == 2
        for _ in range(3):
            tick(second)
        assert len(checkin_texts(twilio_fake)) == 2
        assert [c.status for c in checkins(second)] == ["answered", "sent"]
    finally:
        second.shutdown()
        second.engine.dispose()


def test_crash_before_commit_leaves_the_checkin_pending(twilio: Twilio, twilio_fake, app, settings, clock,
                                                        monkeypatch) -> None:
    svc = app.extensions["triage"]
    start = home_care(twilio, clock)
    clock.now = start + timedelta(hours=24)

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("process killed mid-send")

    monkeypatch.setattr(sender, "queue_sms", crash)
    tick(svc)
    assert checkin_texts(twilio_fake) == []
    with svc.factory() as session:
        assert session.scalars(select(Conversation.node)).one() is None  # the state change rolled back too
    assert [c.status for c in checkins(svc)] == ["pending", "pending"]
    monkeypatch.undo()

    restarted = create_app(replace(settings), clock=clock)
    again: Services = restarted.extensions["triage"]
    try:
        tick(again)
        tick(again)
        assert len(checkin_texts(twilio_fake)) == 1
    finally:
        again.shutdown()
        again.engine.dispose()


def test_send_failure_is_retried_by_the_outbox_once(twilio: Twilio, twilio_fake, svc, clock) -> None:
    start = home_care(twilio, clock)
    clock.now = start + timedelta(hours=24)
    twilio_fake.fail_next(1, status=503)
    tick(svc)
    assert checkin_texts(twilio_fake) == []
    run_clock(svc, clock, clock.now + timedelta(minutes=5), every=timedelta(seconds=30))
    assert len(checkin_texts(twilio_fake)) == 1
    assert twilio_fake.violations == []
