"""Server-side dashboard sessions (issue #18, item 1), through Flask's test client on the real database:
the cookie is only a random token; logout, disabling and an admin end a session everywhere (an old
cookie replayed gets the login page and cannot add a note); the idle timeout ends a session that the
queue page keeps refreshing; the page is told when to warn; the absolute lifetime stays."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from service import create_app
from service.dashboard.auth import hash_password
from service.db import make_engine
from service.migrate import upgrade
from service.models import DashboardSession, EscalationEvent
from service.settings import Settings
from tests.conftest import FakeClock, Twilio, play
from tests.dashboard_client import PASSWORD, create_user, csrf_token, login

COOKIE = "triage_dashboard"
REFRESH = {"X-Requested-With": "fetch", "X-Dashboard-Refresh": "1"}  # as refresh.js and session.js send


@pytest.fixture
def accounts(app: Flask) -> None:
    for username, role in (("avery", "nurse"), ("blake", "nurse"), ("casey", "admin")):
        assert create_user(app, username, role).exit_code == 0


def signed_in(app: Flask, username: str = "avery", address: str = "203.0.113.10") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert login(client, username).status_code == 302
    return client


def cookie_of(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def replaying(app: Flask, value: str) -> FlaskClient:
    """Another browser holding a copy of an old cookie."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, value)
    return thief


def case_id(svc, twilio: Twilio) -> int:  # type: ignore[no-untyped-def]
    from service.models import Escalation

    play(twilio, "hi", "no", "yes")  # a red-flag answer: a case to write notes on
    with svc.factory() as db:
        return db.scalars(select(Escalation.id)).one()


def notes(svc) -> list[str]:  # type: ignore[no-untyped-def]
    with svc.factory() as db:
        return list(db.scalars(select(EscalationEvent.detail).where(EscalationEvent.event == "note")))


def test_the_cookie_is_only_a_random_token_stored_hashed(app: Flask, accounts: None, svc) -> None:
    client = app.test_client()
    client.get("/dashboard/login")
    before = cookie_of(client)  # a visitor's session (the login form's CSRF token)
    assert login(client, "avery").status_code == 302
    token = cookie_of(client)
    assert token != before and len(token) >= 40 and "." not in token  # no signed payload, nothing readable
    with svc.factory() as db:
        row = db.scalars(select(DashboardSession).where(DashboardSession.stage == "full")).one()
        raw = " ".join(str(v) for v in db.execute(text("SELECT * FROM dashboard_sessions")).one())
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in raw
    assert replaying(app, before).get("/dashboard/").status_code == 302  # the pre-login token opens nothing
    assert replaying(app, token).get("/dashboard/").status_code == 200  # the cookie is the session...
    second = signed_in(app)
    assert cookie_of(second) != token  # ...and every sign-in gets its own


def test_an_old_cookie_is_refused_after_logout(app: Flask, accounts: None, svc, twilio: Twilio) -> None:
    case = case_id(svc, twilio)
    nurse = signed_in(app)
    old, token = cookie_of(nurse), csrf_token(nurse, f"/dashboard/cases/{case}")
    assert nurse.post("/dashboard/logout", data={"csrf_token": token}).status_code == 302
    thief = replaying(app, old)
    page = thief.get("/dashboard/", follow_redirects=True)
    assert page.request.path == "/dashboard/login" and b'name="password"' in page.data
    assert thief.get("/dashboard/queue/rows", headers=REFRESH).status_code == 401
    refused = replaying(app, old).post(f"/dashboard/cases/{case}/note", data={"note": "replayed", "csrf_token": token})
    assert refused.status_code == 400 and notes(svc) == []  # the old session's form token died with it
    assert nurse.get("/dashboard/").status_code == 302  # and the browser that logged out is out too


def test_an_old_cookie_is_refused_after_the_user_is_disabled(app: Flask, accounts: None, svc,
                                                             twilio: Twilio) -> None:
    case = case_id(svc, twilio)
    laptop, desk = signed_in(app), signed_in(app, address="203.0.113.11")
    old, token = cookie_of(laptop), csrf_token(laptop, f"/dashboard/cases/{case}")
    assert laptop.post(f"/dashboard/cases/{case}/note", data={"note": "before", "csrf_token": token}).status_code == 302
    result = app.test_cli_runner().invoke(args=["users", "disable", "avery"])
    assert result.exit_code == 0 and "2 session(s) ended" in result.output
    for client in (laptop, desk, replaying(app, old)):
        assert client.get("/dashboard/").status_code == 302
    refused = replaying(app, old).post(f"/dashboard/cases/{case}/note", data={"note": "after", "csrf_token": token})
    assert refused.status_code == 400 and notes(svc) == ["before"]
    app.test_cli_runner().invoke(args=["users", "enable", "avery"])
    assert replaying(app, old).get("/dashboard/").status_code == 302  # enabling again revives no session


def test_a_new_password_ends_the_other_sessions(app: Flask, accounts: None) -> None:
    nurse = signed_in(app)
    result = app.test_cli_runner().invoke(args=["users", "set-password", "avery", "--password-stdin"],
                                          input="another long password\n")
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert nurse.get("/dashboard/").status_code == 302


def test_idle_timeout_ends_the_session_while_the_queue_keeps_refreshing(app: Flask, accounts: None,
                                                                        clock: FakeClock) -> None:
    nurse = signed_in(app)
    assert nurse.get("/dashboard/").status_code == 200
    for _ in range(30):  # the queue page left open: it refreshes itself, nobody is there
        clock.advance(minutes=1)
        assert nurse.get("/dashboard/queue/rows", headers=REFRESH).status_code == 200
        assert nurse.get("/dashboard/session", headers=REFRESH).status_code == 200  # the warning's check
    clock.advance(seconds=61)  # 31 minutes after the last real activity
    assert nurse.get("/dashboard/queue/rows", headers=REFRESH).status_code == 401  # the page reloads...
    page = nurse.get("/dashboard/", follow_redirects=True)  # ...onto the login form, saying why
    assert page.request.path == "/dashboard/login" and b"30 minutes without activity" in page.data
    with app.extensions["triage"].factory() as db:
        ended = db.scalars(select(DashboardSession.ended_reason).where(DashboardSession.user_id.is_not(None)))
        assert ended.one() == "idle"


def test_activity_keeps_the_session_and_the_no_script_refresh_does_not(app: Flask, accounts: None,
                                                                       clock: FakeClock) -> None:
    nurse = signed_in(app)
    clock.advance(minutes=20)
    assert nurse.get("/dashboard/on-call").status_code == 200  # the nurse clicks: activity
    clock.advance(minutes=25)  # 45 minutes after login, 25 after the click
    assert nurse.get("/dashboard/?refresh=1").status_code == 200  # the <noscript> reload: not activity
    clock.advance(minutes=5, seconds=1)
    assert nurse.get("/dashboard/").status_code == 302


def test_the_page_is_told_when_to_warn_and_stay_signed_in_is_activity(app: Flask, accounts: None,
                                                                      clock: FakeClock) -> None:
    nurse = signed_in(app)
    token = _page_token(nurse)
    assert nurse.get("/dashboard/session", headers=REFRESH).get_json() == {
        "seconds_left": 1800, "ends_by": "idle", "warn_seconds": 120}
    clock.advance(minutes=28, seconds=30)
    assert nurse.get("/dashboard/session", headers=REFRESH).get_json()["seconds_left"] == 90  # asking is no activity
    assert nurse.post("/dashboard/session/keepalive", headers={"X-CSRFToken": token}).get_json()["seconds_left"] == 1800
    assert nurse.post("/dashboard/session/keepalive").status_code == 400  # a forged keepalive: no token
    for _ in range(15):  # busy until near the end of the shift: the absolute limit comes first
        clock.advance(minutes=29)
        assert nurse.post("/dashboard/session/keepalive", headers={"X-CSRFToken": token}).status_code == 200
    state = nurse.get("/dashboard/session", headers=REFRESH).get_json()
    assert state["ends_by"] == "absolute" and state["seconds_left"] == 8 * 3600 - (28.5 + 15 * 29) * 60


def _page_token(client: FlaskClient) -> str:
    """The token session.js sends with "Stay signed in", from the warning box every page carries."""
    page = client.get("/dashboard/flows").get_data(as_text=True)
    assert 'id="session-warning"' in page and "session.js" in page
    return page.split('data-csrf-token="', 1)[1].split('"', 1)[0]


def test_an_admin_lists_a_users_sessions_and_ends_them(app: Flask, accounts: None, svc) -> None:
    laptop, desk = signed_in(app, address="203.0.113.21"), signed_in(app, address="203.0.113.22")
    admin = signed_in(app, "casey", address="203.0.113.30")
    listing = admin.get("/dashboard/users").get_data(as_text=True)
    assert '<tr data-user="avery">' in listing
    assert listing.split('<tr data-user="avery">')[1].split("</tr>")[0].count('<td class="live">2</td>') == 1
    page = admin.get("/dashboard/users/avery").get_data(as_text=True)
    assert "203.0.113.21" in page and "203.0.113.22" in page and page.count("data-session=") == 2
    with svc.factory() as db:
        laptop_row = db.scalars(select(DashboardSession.id).where(DashboardSession.address == "203.0.113.21",
                                                                  DashboardSession.ended_at.is_(None))).one()
    token = csrf_token(admin, "/dashboard/users/avery")
    ended = admin.post(f"/dashboard/users/avery/sessions/{laptop_row}/end", data={"csrf_token": token},
                       follow_redirects=True)
    assert b"Session ended for avery" in ended.data and ended.data.count(b"data-session=") == 1
    assert laptop.get("/dashboard/").status_code == 302 and desk.get("/dashboard/").status_code == 200
    cli = app.test_cli_runner()
    assert "1 live session(s) for avery" in cli.invoke(args=["users", "sessions", "avery"]).output
    admin.post("/dashboard/users/avery/sessions/end", data={"csrf_token": token})
    assert desk.get("/dashboard/").status_code == 302
    assert "0 live session(s) for avery" in cli.invoke(args=["users", "sessions", "avery"]).output
    assert admin.get("/dashboard/").status_code == 200  # the admin's own session is untouched
    desk = signed_in(app)
    result = cli.invoke(args=["users", "end-sessions", "avery"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert desk.get("/dashboard/").status_code == 302
    nurse = signed_in(app, "blake")
    assert nurse.get("/dashboard/users").status_code == 403
    assert nurse.post("/dashboard/users/avery/sessions/end",
                      data={"csrf_token": csrf_token(nurse, "/dashboard/")}).status_code == 403
    assert admin.get("/dashboard/users/nobody").status_code == 404


def test_accounts_made_before_this_migration_still_sign_in(empty_database_url: str, settings: Settings,
                                                           clock: FakeClock) -> None:
    database_url = empty_database_url
    engine = make_engine(database_url)
    upgrade(engine, "0001")  # yesterday's schema, with an account in it
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (username, name, password_hash, role, active, created_at) "
                                "VALUES ('avery', 'Nurse Avery', :hash, 'nurse', :yes, :now)"),
                           {"hash": hash_password(PASSWORD), "yes": True, "now": clock()})
    engine.dispose()
    application = create_app(replace(settings, database_url=database_url), clock=clock)  # upgrades at start
    try:
        client = application.test_client()
        assert login(client, "avery").headers["Location"] == "/dashboard/"
        assert client.get("/dashboard/").status_code == 200
    finally:
        application.extensions["triage"].shutdown()
        application.extensions["triage"].engine.dispose()
