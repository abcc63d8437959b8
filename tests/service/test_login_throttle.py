"""Sign-in throttling (issue #18, item 2), through Flask's test client, counted in the real database: a
password spray across many addresses against one account is slowed, a burst from one address is slowed,
and the real nurse still signs in within a minute once the delay has passed (at once from a browser
that signed in before). Behind TRUSTED_PROXIES the forwarded client address is what counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import create_app
from service.dashboard.throttle import MAX_DELAY
from service.models import AuditLog
from service.settings import Settings
from tests.conftest import FakeClock
from tests.dashboard_client import create_user, csrf_token, login, password_step


@pytest.fixture
def avery(app: Flask) -> None:
    assert create_user(app, "avery", "nurse").exit_code == 0


def browser(app: Flask, address: str, forwarded_for: str | None = None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if forwarded_for:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def attempt(client: FlaskClient, username: str, password: str = "wrong password guess") -> tuple[int, int | None]:
    response = password_step(client, username, password)
    retry = response.headers.get("Retry-After")
    return response.status_code, int(retry) if retry is not None else None


def test_a_password_spray_across_many_addresses_is_slowed(app: Flask, avery: None, clock: FakeClock, svc) -> None:
    attackers = [browser(app, f"198.51.100.{n}") for n in range(1, 26)]
    answers = []
    for second in range(100):  # one guess a second, each from the next of 25 addresses
        answers.append(attempt(attackers[second % 25], "avery"))
        clock.advance(seconds=1)
    checked = sum(1 for status, _ in answers if status == 401)
    assert checked <= 12  # 5 free, then waits of 1, 2, 4, 8, 16, 32 s, ...: 11 in 100 s, not 100
    waits = [retry for status, retry in answers if status == 429]
    assert len(waits) == 100 - checked and all(retry is not None and 1 <= retry <= 60 for retry in waits)
    nurse = browser(app, "203.0.113.5")  # the real nurse, on a browser she never used here
    status, retry = attempt(nurse, "avery", "correct horse battery")
    assert status == 429 and retry is not None and retry <= MAX_DELAY.total_seconds()
    clock.advance(seconds=retry)  # she waits as told (under a minute)...
    assert login(nurse, "avery").status_code == 302  # ...and is in: a wait, never a lock
    with svc.factory() as db:
        assert db.scalar(select(func.count()).where(AuditLog.action == "login_throttled")) == len(waits) + 1


def test_waiting_attempts_are_not_counted_and_tell_nothing(app: Flask, avery: None, clock: FakeClock) -> None:
    attacker = browser(app, "198.51.100.1")
    for _ in range(5):
        assert attempt(attacker, "avery")[0] == 401
    for _ in range(50):  # hammering during the wait does not make it longer
        assert attempt(attacker, "avery") == (429, 1)
    # During the wait the right password gets the same answer as a wrong one: no oracle.
    assert attempt(browser(app, "203.0.113.5"), "avery", "correct horse battery") == (429, 1)
    clock.advance(seconds=1)
    assert attempt(attacker, "avery")[0] == 401
    assert attempt(attacker, "avery") == (429, 2)  # each further failure doubles the wait
    clock.advance(minutes=16)  # a quiet quarter of an hour: the account's failures are forgotten
    for _ in range(5):
        assert attempt(attacker, "avery")[0] == 401


def test_the_nurses_own_browser_signs_in_at_once_during_a_spray(app: Flask, avery: None, clock: FakeClock) -> None:
    ward = browser(app, "203.0.113.5")
    assert login(ward, "avery").status_code == 302  # she signed in here yesterday: a known device
    ward.post("/dashboard/logout", data={"csrf_token": csrf_token(ward, "/dashboard/")})
    for n in range(40):
        attempt(browser(app, f"198.51.100.{n + 1}"), "avery")
    assert attempt(browser(app, "203.0.113.6"), "avery", "correct horse battery")[0] == 429  # a new browser waits
    assert login(ward, "avery").status_code == 302  # her own does not
    stolen = browser(app, "198.51.100.99")
    stolen.set_cookie("triage_device", "forged.value.here", path="/dashboard/")
    assert attempt(stolen, "avery")[0] == 429  # a cookie not signed by us is ignored


def test_a_burst_from_one_address_is_slowed(app: Flask, avery: None, clock: FakeClock) -> None:
    bot = browser(app, "198.51.100.7")
    answers = []
    for n in range(38):  # a different account name each second: only the address ties them together
        answers.append(attempt(bot, f"user{n}"))
        clock.advance(seconds=1)
    checked = sum(1 for status, _ in answers if status == 401)
    assert 10 <= checked <= 14  # 10 free (nurses may share an address), then doubling waits
    assert login(browser(app, "203.0.113.5"), "avery").status_code == 302  # other addresses are untouched
    same_address = browser(app, "198.51.100.7")
    status, retry = attempt(same_address, "avery", "correct horse battery")
    assert status == 429 and retry is not None and retry <= 60
    clock.advance(seconds=retry)
    assert login(same_address, "avery").status_code == 302


def test_counts_are_shared_by_every_web_process(app: Flask, avery: None, settings: Settings,
                                                clock: FakeClock) -> None:
    other = create_app(settings, clock=clock)  # a second gunicorn worker on the same database
    try:
        for n in range(5):
            assert attempt(browser(app if n % 2 else other, f"198.51.100.{n}"), "avery")[0] == 401
        assert attempt(browser(other, "198.51.100.9"), "avery")[0] == 429
        assert attempt(browser(app, "198.51.100.9"), "avery")[0] == 429
    finally:
        other.extensions["triage"].shutdown()
        other.extensions["triage"].engine.dispose()


@pytest.fixture
def behind_proxy(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(replace(settings, trusted_proxies=1), clock=clock)
    assert create_user(application, "avery", "nurse").exit_code == 0
    yield application
    application.extensions["triage"].shutdown()
    application.extensions["triage"].engine.dispose()


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(behind_proxy: Flask, svc) -> None:
    proxy = "127.0.0.1"  # every request reaches the service from the load balancer
    for n in range(12):  # twelve clients, each with one wrong guess for its own account name
        assert attempt(browser(behind_proxy, proxy, f"198.51.100.{n}"), f"user{n}")[0] == 401
    assert login(browser(behind_proxy, proxy, "203.0.113.5"), "avery").status_code == 302  # not all one address
    with behind_proxy.extensions["triage"].factory() as db:
        details = set(db.scalars(select(AuditLog.detail).where(AuditLog.action.in_(["login", "login_failed"]))))
    assert "from 198.51.100.3" in details and "from 203.0.113.5" in details and f"from {proxy}" not in details


def test_without_trusted_proxies_a_forged_forwarded_address_changes_nothing(app: Flask, avery: None) -> None:
    answers = [attempt(browser(app, "198.51.100.7", f"192.0.2.{n}"), f"user{n}")[0] for n in range(12)]
    assert answers[:10] == [401] * 10 and answers[10:] == [429, 429]  # still one address: 198.51.100.7
