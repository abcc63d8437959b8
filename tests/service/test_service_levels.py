"""Service levels (issue #20, item 3): a scripted week of cases, played through signed webhooks with a fake
clock (texts, a phone call, a callback through the clinic number), against figures worked out by hand; the
page, its CSV and its plots say the same."""

from __future__ import annotations

import csv
import dataclasses
import io
import statistics
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import create_app
from service.models import AuditLog, Escalation
from service.servicelevels.figures import CaseTimes, Targets, report, spread
from service.settings import Settings
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, FakeClock, Twilio, play, services
from tests.dashboard_client import create_user, login
from tests.service.test_callbacks import Leg, dial_ends, nurse_answers, patient_picks_up, press
from tests.service.test_escalation_lifecycle import EMERGENCY
from tests.service.test_voice import Call

NEW_YORK = ZoneInfo("America/New_York")  # the clinic's zone (CLINIC_TIMEZONE's default)
SEEN_TODAY = ["hi"] + ["no"] * 7 + ["yes"]  # a nurse callback: seen today
SEEN_3_DAYS = ["hi"] + ["no"] * 11 + ["yes"]  # the clinic queue
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, public_base_url="http://localhost")  # for the callback in the week


def local(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """Monday 2 March 2026 is day 0, clinic time."""
    return datetime(2026, 3, 2 + day, hour, minute, second, tzinfo=NEW_YORK).astimezone(UTC)


class Week:
    """The scripted week: each case a new patient, each step at its clinic time."""

    def __init__(self, twilio: Twilio, svc, clock: FakeClock):  # type: ignore[no-untyped-def]
        self.twilio, self.svc, self.clock = twilio, svc, clock
        self.phones = (f"+1212555{n:04d}" for n in range(2000, 2100))
        self.cases: dict[str, int] = {}

    def at(self, day: int, hour: int, minute: int = 0, second: int = 0) -> Week:
        when = local(day, hour, minute, second)
        assert when >= self.clock.now
        self.clock.now = when
        return self

    def opens(self, name: str, texts: list[str]) -> None:
        play(self.twilio, *texts, frm=next(self.phones))
        self.cases[name] = self._latest()

    def calls_in(self, name: str) -> str:
        """A caller with a red flag (fainting: call 911) is put through to the nurse; returns the screen's URL."""
        call = Call(self.twilio, frm=next(self.phones))
        call.start()
        number = call.press("1").one("Number")
        self.cases[name] = self._latest()
        return number.get("url") or ""

    def nurse(self, text: str) -> None:
        case_id = self.cases[text.split()[1]]
        reply = self.twilio.sms(text.replace(text.split()[1], str(case_id), 1), frm=NURSE_AVERY)
        assert not reply.text.startswith(("Not a command", "There is no")), reply.text

    def _latest(self) -> int:
        with self.svc.factory() as session:
            return session.scalar(select(func.max(Escalation.id)))


def play_the_week(twilio: Twilio, twilio_fake, svc, clock: FakeClock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    week = Week(twilio, svc, clock)
    week.at(0, 10).opens("E1", [EMERGENCY])  # Monday
    week.at(0, 10, 3).nurse("ACK E1")
    week.at(0, 10, 6).nurse("MSG E1 Please go to the ED now.")
    week.at(0, 11).opens("C1", SEEN_TODAY)
    week.at(0, 11, 10).nurse("ACK C1")
    week.at(0, 11, 25).nurse("MSG C1 Can you come in at 3?")
    week.at(1, 10).opens("E2", [EMERGENCY])  # Tuesday: an emergency acknowledged late
    week.at(1, 10, 8).nurse("ACK E2")
    week.at(1, 10, 12).nurse("MSG E2 Going to the ED?")
    week.at(1, 14).opens("C2", SEEN_TODAY)  # ...and a callback reached late
    week.at(1, 14, 20).nurse("ACK C2")
    week.at(1, 14, 45).nurse("MSG C2 Sorry for the wait.")
    screen = week.at(2, 9).calls_in("E3")  # Wednesday: a phone call, put through to the nurse after a minute
    week.at(2, 9, 1)
    leg = Call(twilio, frm=CLINIC_NUMBER, sid="CA" + "9" * 32)
    leg.post(screen)
    twilio.signed_post(leg.reply.one("Gather").get("action"), {"CallSid": leg.sid, "Digits": "1"})  # type: ignore[union-attr]
    week.at(2, 9, 4).nurse("ACK E3")
    week.at(3, 10).opens("C3", SEEN_TODAY)  # Thursday: reached by a callback through the clinic number
    week.at(3, 10, 5).nurse("CALL C3")
    week.at(3, 10, 5, 20)
    nurse_leg, whisper = nurse_answers(twilio, twilio_fake)
    dial = press(nurse_leg, whisper, "1")
    week.at(3, 10, 15)
    patient_picks_up(twilio, dial)
    week.at(3, 10, 20)
    dial_ends(Leg(twilio, nurse_leg.sid), dial, "completed", "300")
    week.at(4, 10).opens("Q1", SEEN_3_DAYS)  # Friday: the clinic queue (no target)
    week.at(4, 11).nurse("ACK Q1")
    week.at(4, 11, 30).nurse("MSG Q1 We can see you Monday.")
    week.at(4, 12).nurse("DONE Q1 booked")
    week.at(5, 12).opens("E4", [EMERGENCY])  # Saturday
    week.at(5, 12, 2).nurse("ACK E4")
    week.at(5, 12, 4).nurse("MSG E4 Calling 911 for you?")
    week.at(6, 12).opens("C4", SEEN_TODAY)  # Sunday: resolved without any contact on record
    week.at(6, 12, 40).nurse("DONE C4 called from my own phone")
    week.at(6, 19, 50).opens("C5", SEEN_TODAY)  # still inside its 30 minutes at 20:00
    week.at(6, 19, 58).opens("E5", [EMERGENCY])  # still inside its 5 minutes
    week.at(6, 20)
    assert twilio_fake.violations == []
    return week.cases


class Tags(HTMLParser):
    """Every start tag's attributes, in order (the page marks its figures with data- attributes)."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def one(self, **wanted: str) -> dict[str, str]:
        [found] = [a for _, a in self.tags if all(a.get(k) == v for k, v in wanted.items())]
        return found


def signed_in(app: Flask) -> FlaskClient:
    """A nurse signed in now (after the week is played: the fake clock has moved days past any session)."""
    assert create_user(app, "avery", "nurse", "Nurse Avery").exit_code == 0
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def figures_on(page: str) -> dict[str, object]:
    """What the page shows, read from the data- attributes its figures carry."""
    tags = Tags(page)
    shares = {name: tuple(int(tags.one(id=name)[k]) for k in ("data-within", "data-counted", "data-pending"))
              for name in ("share-emergency-ack", "share-callback-contact")}
    columns = ("ack-count", "ack-median", "ack-p90", "contact-count", "contact-median", "contact-p90")
    times = {a["data-level"]: tuple(_f(a[f"data-{c}"]) for c in columns) for _, a in tags.tags if "data-ack-count" in a}
    missed = [int(a["data-case"]) for tag, a in tags.tags if tag == "li" and a.get("data-case")]
    return {"shares": shares, "times": times, "missed": missed}


def _f(raw: str) -> float | None:
    return float(raw) if raw else None


def test_a_scripted_week_against_hand_worked_figures(app: Flask, twilio: Twilio, twilio_fake, svc,
                                                     clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    cases = play_the_week(twilio, twilio_fake, svc, clock)
    nurse = signed_in(app)
    page = nurse.get("/dashboard/service-levels/?period=7d").get_data(as_text=True)
    found = figures_on(page)
    # Emergencies acknowledged within 5 min: E1 3, E3 4, E4 2 met; E2 8 missed; E5 (2 min old) pending.
    # Callbacks reached within 30 min: C1 25, C3 15 met; C2 45 and C4 (resolved, no contact) missed; C5 pending.
    assert found["shares"] == {"share-emergency-ack": (3, 4, 1), "share-callback-contact": (2, 4, 1)}
    assert "75%" in page and "50%" in page
    # (count, median, 90th percentile by nearest rank), acknowledged then reached, in minutes from opening.
    assert found["times"] == {
        "call_911_now": (1, 4, 4, 1, 1, 1),  # E3: acknowledged at 4, put through at 1
        "ed_now": (3, 3, 8, 3, 6, 12),  # acknowledged 3, 8, 2; reached 6, 12, 4
        "seen_today": (4, 15, 40, 3, 25, 45),  # acknowledged 10, 20, 5, 40 (C4's resolve); reached 25, 45, 15
        "seen_within_3_days": (1, 60, 60, 1, 90, 90),
    }
    assert found["missed"] == [cases["E2"], cases["C2"], cases["C4"]]
    assert "acknowledged after 8 min (target 5 min)" in page
    assert "first contact after 45 min (target 30 min)" in page
    assert "resolved without contact after 40 min (target 30 min)" in page
    counts = {cell: n for cell, n in report_counts(page).items() if n}
    assert counts == {("call_911_now", "voice"): 1, ("ed_now", "sms"): 4, ("seen_today", "sms"): 5,
                      ("seen_within_3_days", "sms"): 1}


def report_counts(page: str) -> dict[tuple[str, str], int]:
    """The cases-by-level-and-channel table, read cell by cell."""

    class Cells(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.level: str | None = None
            self.channel: str | None = None
            self.counts: dict[tuple[str, str], int] = {}
            self.inside = False

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "table":
                self.inside = found.get("id") == "by-level-channel"
            if self.inside and tag == "tr":
                self.level = found.get("data-level")
            if self.inside and tag == "td":
                self.channel = found.get("data-channel")

        def handle_data(self, data: str) -> None:
            if self.inside and self.level and self.channel and data.strip():
                self.counts[(self.level, self.channel)] = int(data)
                self.channel = None

        def handle_endtag(self, tag: str) -> None:
            if tag == "table":
                self.inside = False

    cells = Cells()
    cells.feed(page)
    return cells.counts


def test_the_csv_has_the_same_cases_and_gives_the_same_figures(app: Flask, twilio: Twilio, twilio_fake,
                                                               svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    cases = play_the_week(twilio, twilio_fake, svc, clock)
    nurse = signed_in(app)
    page = figures_on(nurse.get("/dashboard/service-levels/?period=7d").get_data(as_text=True))
    response = nurse.get("/dashboard/service-levels/cases.csv?period=7d")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="service-levels-2026-03-02-2026-03-08.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(int(r["case"]) for r in rows) == sorted(cases.values())
    assert "+1212555" not in response.get_data(as_text=True)  # no phone numbers in an export
    e1 = next(r for r in rows if int(r["case"]) == cases["E1"])
    assert (e1["opened"], e1["acknowledged"], e1["minutes_to_acknowledge"], e1["target_result"]) == (
        "2026-03-02T10:00:00-05:00", "2026-03-02T10:03:00-05:00", "3.0", "met")
    assert e1["disposition"] == "emergency"  # the column named as on the case and the flow's levels
    for level, (ack_n, ack_median, ack_p90, contact_n, contact_median, contact_p90) in page["times"].items():
        of_level = [r for r in rows if r["level"] == level]
        acks = [float(r["minutes_to_acknowledge"]) for r in of_level if r["minutes_to_acknowledge"]]
        contacts = [float(r["minutes_to_first_contact"]) for r in of_level if r["minutes_to_first_contact"]]
        assert (len(acks), statistics.median(acks), spread(acks).p90) == (ack_n, ack_median, ack_p90)
        assert (len(contacts), statistics.median(contacts), spread(contacts).p90) == (contact_n, contact_median,
                                                                                       contact_p90)
    for name, measure in (("share-emergency-ack", "ack"), ("share-callback-contact", "contact")):
        results = [r["target_result"] for r in rows if r["target"] == measure]
        assert page["shares"][name] == (results.count("met"), results.count("met") + results.count("missed"),
                                        results.count("pending"))
    assert sorted(int(r["case"]) for r in rows if r["target_result"] == "missed") == sorted(page["missed"])
    with svc.factory() as session:
        assert session.scalar(select(AuditLog.detail).where(AuditLog.action == "export_service_levels")) == \
            "2026-03-02..2026-03-08: 11 cases"


def test_the_plots_draw_the_same_counts(app: Flask, twilio: Twilio, twilio_fake, svc,
                                        clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    play_the_week(twilio, twilio_fake, svc, clock)
    nurse = signed_in(app)
    daily = nurse.get("/dashboard/service-levels/daily.svg?period=7d")
    assert daily.mimetype == "image/svg+xml"
    bars = {(b.get("data-day"), b.get("data-level")): int(b.get("data-count") or 0)
            for b in ET.fromstring(daily.get_data(as_text=True)).iter(f"{SVG}rect") if b.get("data-day")}
    assert bars == {("2026-03-02", "ed_now"): 1, ("2026-03-02", "seen_today"): 1, ("2026-03-03", "ed_now"): 1,
                    ("2026-03-03", "seen_today"): 1, ("2026-03-04", "call_911_now"): 1,
                    ("2026-03-05", "seen_today"): 1, ("2026-03-06", "seen_within_3_days"): 1,
                    ("2026-03-07", "ed_now"): 1, ("2026-03-08", "seen_today"): 2, ("2026-03-08", "ed_now"): 1}
    contact = ET.fromstring(nurse.get("/dashboard/service-levels/contact.svg?period=7d").get_data(as_text=True))
    buckets = [(b.get("data-bucket"), int(b.get("data-count") or 0)) for b in contact.iter(f"{SVG}rect")
               if b.get("data-bucket")]
    # reached after 1 and 4 min; 6, 12 and 15; 25; 45; 90; not reached: C4, C5, E5
    assert buckets == [("≤ 5 min", 2), ("5–15 min", 3), ("15–30 min", 1), ("30–60 min", 1), ("60–120 min", 1),
                       ("> 120 min", 0), ("no contact yet", 3)]


def test_today_and_chosen_dates(app: Flask, twilio: Twilio, twilio_fake, svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    cases = play_the_week(twilio, twilio_fake, svc, clock)
    nurse = signed_in(app)
    today = figures_on(nurse.get("/dashboard/service-levels/?period=today").get_data(as_text=True))
    assert today["shares"] == {"share-emergency-ack": (0, 0, 1), "share-callback-contact": (0, 1, 1)}
    assert today["missed"] == [cases["C4"]]
    tuesday = nurse.get("/dashboard/service-levels/?from=2026-03-03&to=2026-03-03").get_data(as_text=True)
    assert figures_on(tuesday)["shares"] == {"share-emergency-ack": (0, 1, 0), "share-callback-contact": (0, 1, 0)}
    assert "Tue 03 Mar 2026 to Tue 03 Mar 2026: 2 cases." in tuesday
    month = figures_on(nurse.get("/dashboard/service-levels/?period=30d").get_data(as_text=True))
    assert month["shares"] == {"share-emergency-ack": (3, 4, 1), "share-callback-contact": (2, 4, 1)}
    bad = nurse.get("/dashboard/service-levels/?from=2026-03-09&to=2026-03-01").get_data(as_text=True)
    assert "The end date is before the start date." in bad and "11 cases." in bad  # and the last 7 days shown
    assert "Please give the dates as YYYY-MM-DD." in nurse.get("/dashboard/service-levels/?from=March").get_data(
        as_text=True)


def test_the_targets_decide_what_is_met(app: Flask) -> None:
    start = local(0, 0)
    rows = [CaseTimes(1, local(0, 10), "ed_now", "emergency", "sms", "acknowledged", acknowledged_at=local(0, 10, 7)),
            CaseTimes(2, local(0, 11), "seen_today", "nurse_callback", "sms", "acknowledged",
                      first_contact_at=local(0, 11, 50))]
    strict = report(rows, Targets(5, 30), local(1, 0), start, start + timedelta(days=1), NEW_YORK)
    assert [(v.case.id, v.why) for v in strict.missed] == [(1, "acknowledged after 7 min (target 5 min)"),
                                                           (2, "first contact after 50 min (target 30 min)")]
    lenient = report(rows, Targets(10, 60), local(1, 0), start, start + timedelta(days=1), NEW_YORK)
    assert lenient.missed == [] and lenient.emergency_ack.percent == lenient.callback_contact.percent == 100


def test_the_page_uses_the_targets_in_the_settings(settings: Settings, clock: FakeClock) -> None:
    lenient = create_app(dataclasses.replace(settings, target_ack_minutes_emergency=10,
                                             target_contact_minutes_callback=60), clock=clock)
    try:
        twilio = Twilio(lenient.test_client())
        play(twilio, EMERGENCY)
        clock.advance(minutes=7)
        twilio.sms("ACK 1", frm=NURSE_AVERY)
        page = signed_in(lenient).get("/dashboard/service-levels/").get_data(as_text=True)
    finally:
        services(lenient).shutdown()
        services(lenient).engine.dispose()
    assert "Emergencies acknowledged within 10 min" in page and "Nurse callbacks reached within 60 min" in page
    assert figures_on(page)["shares"]["share-emergency-ack"] == (1, 1, 0)  # 7 min: missed at 5, met at 10


def test_the_page_is_for_signed_in_staff(app: Flask) -> None:
    response = app.test_client().get("/dashboard/service-levels/")
    assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]
    assert app.test_client().get("/dashboard/service-levels/cases.csv").status_code == 302


def test_an_empty_period_says_so(app: Flask) -> None:
    nurse = signed_in(app)
    page = nurse.get("/dashboard/service-levels/").get_data(as_text=True)
    assert "No cases in this period." in page and "None." in page
    assert figures_on(page)["shares"] == {"share-emergency-ack": (0, 0, 0), "share-callback-contact": (0, 0, 0)}
    svg = nurse.get("/dashboard/service-levels/daily.svg").get_data(as_text=True)
    assert "No cases in this period" in svg and len(list(ET.fromstring(svg).iter(f"{SVG}rect"))) == 1  # background
