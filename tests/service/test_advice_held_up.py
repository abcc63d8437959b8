"""Did the advice hold up (issue #20, item 4): scripted patients played through signed webhooks with a fake
clock. Some home-care or 3-day patients come back at a higher level within 7 days (a check-in answered
"worse" that escalates, a new conversation), some after 8 days, some at the same or a lower level, one is
still inside its 7 days; the service levels page, the review list and the review form against figures worked
out by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from service.clock import tick
from service.db import transaction
from service.models import AdviceReview, AuditLog, Conversation
from service.privacy.retention import purge_patient
from service.servicelevels.heldup import HELD, NOT_HELD, PENDING, Outcome, held_up
from service.servicelevels.recontacts import held_up_between
from tests.conftest import ALL_CLEAR, FakeClock, Twilio, play
from tests.dashboard_client import create_user, csrf_token, goes_to, login
from tests.service.test_escalation_lifecycle import EMERGENCY
from tests.service.test_service_levels import SEEN_3_DAYS, SEEN_TODAY, Tags, local

HOME_CARE = ["hi, my back went into spasm", *ALL_CLEAR]
PERIOD = "/dashboard/service-levels/held-up/?from=2026-03-02&to=2026-03-11"  # days 0 to 9


class Patients:
    """Each scripted patient a phone of their own; each step at its clinic time (day 0: Monday 2 March 2026)."""

    def __init__(self, twilio: Twilio, svc, clock: FakeClock):  # type: ignore[no-untyped-def]
        self.twilio, self.svc, self.clock = twilio, svc, clock
        self.phones: dict[str, str] = {}
        self.conversations: dict[str, int] = {}  # "A" -> A's first conversation, "A2" -> their second

    def at(self, day: int, hour: int, minute: int = 0) -> Patients:
        when = local(day, hour, minute)
        assert when >= self.clock.now
        self.clock.now = when
        return self

    def texts(self, name: str, texts: list[str]) -> None:
        patient = name[0]
        phone = self.phones.setdefault(patient, f"+1212555{3000 + len(self.phones):04d}")
        play(self.twilio, *texts, frm=phone)
        with self.svc.factory() as session:
            latest = session.scalar(select(func.max(Conversation.id)))
        if name not in self.conversations:
            self.conversations[name] = latest


def play_the_fortnight(twilio: Twilio, svc, clock: FakeClock) -> dict[str, int]:  # type: ignore[no-untyped-def]
    p = Patients(twilio, svc, clock)
    p.at(0, 10).texts("A", HOME_CARE)  # home care; the 24 h check-in answered "worse": ED now
    p.at(0, 11).texts("B", HOME_CARE)  # home care; back 3 days later with a new conversation: seen today
    p.at(0, 12).texts("C", SEEN_3_DAYS)  # see within 3 days; back 2 days later with an emergency
    p.at(0, 13).texts("D", HOME_CARE)  # home care; back after 8 days at seen today: held up
    p.at(0, 14).texts("E", HOME_CARE)  # home care; back 2 days later at home care again: held up (twice)
    p.at(1, 9).texts("F", SEEN_3_DAYS)  # see within 3 days; back 2 days later at home care: held up (twice)
    p.at(1, 10, 1)
    tick(svc)  # the clock process: only A's check-in is due (the others' come an hour or more later)
    p.at(1, 10, 30).texts("A", ["worse", "no", "yes"])  # worse; not faint; bladder control lost: ED now
    p.at(2, 15).texts("C2", [EMERGENCY])
    p.at(2, 16).texts("E2", HOME_CARE)
    p.at(3, 9).texts("F2", HOME_CARE)
    p.at(3, 12).texts("B2", SEEN_TODAY)
    p.at(8, 13).texts("D2", SEEN_TODAY)  # 8 days after D's advice
    p.at(9, 10).texts("G", HOME_CARE)  # home care yesterday: its 7 days have not passed
    p.at(10, 12)
    return p.conversations


def signed_in(app: Flask, username: str, role: str) -> FlaskClient:
    assert create_user(app, username, role, username.title()).exit_code == 0
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def listed(page: str) -> list[tuple[int, int, str, str]]:
    """The review list: (advice conversation, later conversation, how, reviewed), in order."""
    return [(int(a["data-advice"]), int(a["data-later"]), a["data-via"], a["data-reviewed"])
            for tag, a in Tags(page).tags if tag == "li" and "data-advice" in a]


def test_the_review_lists_exactly_the_re_contacts_at_a_higher_level(app: Flask, twilio: Twilio, twilio_fake,
                                                                    svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    c = play_the_fortnight(twilio, svc, clock)
    assert twilio_fake.violations == []
    nurse = signed_in(app, "avery", "nurse")
    page = nurse.get(PERIOD).get_data(as_text=True)
    assert listed(page) == [(c["A"], c["A"], "checkin", "no"), (c["B"], c["B2"], "new_conversation", "no"),
                            (c["C"], c["C2"], "new_conversation", "no")]
    # Advised in days 0-9: A B C D E F (day 0-1), E2 F2 (day 2-3), G (day 9) = 9. Re-contacted higher: A B C.
    # Pending: G. Held up: D (8 days), E and E2 (same level), F and F2 (lower) = 5 of the 8 decided.
    words = Tags(page).one(id="held-up-words")
    assert (words["data-advised"], words["data-recontacted"], words["data-pending"]) == ("9", "3", "1")
    assert "62% held up" in page  # 5 / 8 = 62.5%
    # Both conversations side by side: A's advice from its answers, then the check-in's "worse" and the ED.
    first, second = [a for tag, a in Tags(page).tags if tag == "section" and a.get("data-conversation") == str(c["A"])]
    assert (first["data-level"], second["data-level"]) == ("home_care", "ed_now")
    a_block = page[page.index(f'id="advice-{c["A"]}"'):page.index(f'id="advice-{c["B"]}"')]
    assert "Worse" in a_block and "How it reached the higher level" in a_block and "bladder" in a_block.lower()
    assert "Mark reviewed" not in page  # a nurse sees the list; the clinical lead (an admin) marks reviews
    levels = nurse.get(PERIOD.replace("/held-up", "")).get_data(as_text=True)
    panel = Tags(levels).one(id="held-up")
    assert {k: panel[f"data-{k}"] for k in ("advised", "held", "recontacted", "counted", "pending")} == {
        "advised": "9", "held": "5", "recontacted": "3", "counted": "8", "pending": "1"}
    exported = nurse.get(PERIOD.replace("/?", "/advice.csv?"))
    rows = {int(r["advice_conversation"]): r for r in csv.DictReader(io.StringIO(exported.get_data(as_text=True)))}
    assert {n: rows[c[n]]["result"] for n in ("A", "B", "C", "D", "E", "E2", "F", "F2", "G")} == {
        "A": NOT_HELD, "B": NOT_HELD, "C": NOT_HELD, "D": HELD, "E": HELD, "E2": HELD, "F": HELD, "F2": HELD,
        "G": PENDING}
    assert len(rows) == 9 and (rows[c["A"]]["via"], rows[c["A"]]["recontact_level"]) == ("checkin", "ed_now")
    assert (rows[c["C"]]["advice_level"], rows[c["C"]]["recontact_conversation"]) == ("seen_within_3_days",
                                                                                     str(c["C2"]))
    with svc.factory() as session:
        actions = session.scalars(select(AuditLog.action)).all()
        assert "view_advice_reviews" in actions and "export_advice_held_up" in actions


def test_marking_reviewed_stores_a_sealed_note_and_audits_it(app: Flask, twilio: Twilio, svc,
                                                             clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    c = play_the_fortnight(twilio, svc, clock)
    url = f"/dashboard/service-levels/held-up/{c['B']}/review"
    stranger = app.test_client()
    assert goes_to(stranger.get(PERIOD), "/dashboard/login")  # not signed in: to the sign-in, even with a token
    assert goes_to(stranger.post(url, data={"note": "x", "csrf_token": csrf_token(stranger)}), "/dashboard/login")
    nurse = signed_in(app, "avery", "nurse")
    assert nurse.post(url, data={"note": "x", "csrf_token": csrf_token(nurse, PERIOD)}).status_code == 403
    lead = signed_in(app, "lead", "admin")
    assert lead.post(url, data={"note": "no token"}).status_code == 400  # CSRF
    token = csrf_token(lead, PERIOD)
    note = "Reviewed the answers: leg numbness was not asked about; add it to the flow."
    done = lead.post(url, data={"note": note, "csrf_token": token, "from": "2026-03-02", "to": "2026-03-11"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#advice-{c['B']}")
    page = lead.get(PERIOD).get_data(as_text=True)
    assert [r[3] for r in listed(page)] == ["no", "yes", "no"]
    assert "Reviewed by lead" in page and "leg numbness was not asked about" in page
    held = lead.post(f"/dashboard/service-levels/held-up/{c['D']}/review", data={"note": "x", "csrf_token": token})
    assert held.status_code == 302  # D's advice held up: nothing to review, refused with a message
    with svc.factory() as session:
        [review] = session.scalars(select(AdviceReview)).all()
        assert (review.conversation_id, review.later_conversation_id, review.later_level, review.reviewed_by,
                review.note) == (c["B"], c["B2"], "seen_today", "lead", note)
        raw = session.execute(text("SELECT note FROM advice_reviews")).scalar_one()
        assert raw.startswith("enc:") and "numbness" not in raw  # sealed at rest
        audits = session.execute(select(AuditLog.username, AuditLog.action, AuditLog.detail)
                                 .where(AuditLog.action == "review_advice").order_by(AuditLog.id)).all()
    assert [(u, d.split(":")[0]) for u, _, d in audits] == [
        ("avery", "refused"), ("lead", f"conversation {c['B']} (home_care) -> seen_today after 3.0 days"),
        ("lead", "refused")]
    assert all("numbness" not in d for _, _, d in audits)  # the audit log is plain: the note stays sealed
    with transaction(svc.factory) as session:  # an erasure (or retention) removes the note, keeps the review
        assert purge_patient(session, review.patient_id, clock.now, before=None).reviews == 1
    with svc.factory() as session:
        purged = session.scalars(select(AdviceReview)).one()
        assert (purged.note, purged.content_purged_at, purged.reviewed_by) == ("", clock.now, "lead")


def _advice(patient: int, conversation: int, level: str, at: datetime, first: bool = True) -> Outcome:
    return Outcome(patient, conversation, level, at, first=first)


def test_seven_days_to_the_minute_and_pending() -> None:
    t0 = datetime(2026, 3, 2, 15, tzinfo=UTC)
    outcomes = [
        _advice(1, 1, "home_care", t0), _advice(1, 2, "seen_today", t0 + timedelta(days=7)),  # exactly 7 days: counts
        _advice(2, 3, "home_care", t0), _advice(2, 4, "ed_now", t0 + timedelta(days=7, minutes=1)),  # a minute late
        _advice(3, 5, "seen_within_3_days", t0), _advice(3, 5, "home_care", t0 + timedelta(days=1), first=False),
        _advice(4, 6, "home_care", t0 + timedelta(days=3)),  # 7 days not passed at now
        _advice(5, 7, "seen_today", t0),  # not advice at home care or 3 days: not judged
    ]
    found = held_up(outcomes, t0 + timedelta(days=8), t0, t0 + timedelta(days=5))
    assert [(v.advice.conversation_id, v.state) for v in found.verdicts] == [
        (1, NOT_HELD), (3, HELD), (5, HELD), (6, PENDING)]
    assert found.verdicts[0].recontact == outcomes[1]
    assert (found.share.within, found.share.counted, found.share.pending) == (2, 3, 1)


@pytest.mark.parametrize("level", ["home_care", "seen_within_3_days"])
def test_the_same_or_a_lower_level_is_not_a_re_contact(level: str) -> None:
    t0 = datetime(2026, 3, 2, 15, tzinfo=UTC)
    later = [_advice(1, 2, level, t0 + timedelta(days=1)), _advice(1, 3, "home_care", t0 + timedelta(days=2))]
    found = held_up([_advice(1, 1, level, t0), *later], t0 + timedelta(days=9), t0, t0 + timedelta(hours=1))
    assert [v.state for v in found.verdicts] == [HELD]



def test_an_outcome_cut_from_its_keys_still_counts(twilio: Twilio, svc, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """Rows written before migration 0008 had messages.key cut at 64 characters: a turn whose keys ran past
    them has lost its outcome's id there."""
    play(twilio, *HOME_CARE)
    start = clock.now
    with transaction(svc.factory) as session:
        cut = session.execute(text("UPDATE messages SET key = 'care_rest,care_heat_ice,care_positions,out_ho' "
                                   "WHERE key LIKE '%out_home_care'")).rowcount
    assert cut == 1
    with svc.factory() as session:
        found = held_up_between(session, svc.flows, start - timedelta(hours=1), start + timedelta(hours=1),
                                start + timedelta(days=8))
    [judged] = found.verdicts
    assert (judged.advice.level, judged.advice.node, judged.state) == ("home_care", "out_home_care", HELD)
