"""Two-factor sign-in (issue #18, item 3) through Flask's test client: an admin enrols at the first
sign-in (QR code of the right otpauth URI, inline SVG), then signs in with the code pyotp computes; a
code is accepted once; recovery codes are shown once, stored hashed and each works once; nurses need it
only with DASHBOARD_REQUIRE_2FA; `flask users reset-2fa`; the code step is throttled too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import pyotp
import pytest
import segno
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from service import create_app
from service.models import RecoveryCode, User
from service.settings import Settings
from tests.conftest import FakeClock, Twilio, play
from tests.dashboard_client import (
    authenticator_code,
    code_step,
    create_user,
    csrf_token,
    enrol_totp,
    goes_to,
    login,
    password_step,
)


@pytest.fixture
def casey(app: Flask) -> None:
    assert create_user(app, "casey", "admin", "Supervisor Casey").exit_code == 0


def account(svc, username: str) -> User:  # type: ignore[no-untyped-def]
    with svc.factory() as db:
        return db.scalars(select(User).where(User.username == username)).one()


def enrolled(app: Flask) -> tuple[FlaskClient, str, list[str]]:
    client = app.test_client()
    assert goes_to(password_step(client, "casey"), "/dashboard/two-factor")
    secret, codes = enrol_totp(client)
    client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/two-factor")})
    return client, secret, codes


def test_an_admin_enrols_at_first_sign_in_then_signs_in_with_a_code(app: Flask, casey: None, svc,
                                                                    clock: FakeClock) -> None:
    client = app.test_client()
    assert goes_to(password_step(client, "casey", next_path="/dashboard/audit"), "/dashboard/two-factor")
    assert goes_to(client.get("/dashboard/"), "/dashboard/two-factor")  # the password alone opens nothing
    page = client.get("/dashboard/two-factor").get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]{32})</code>', page).group(1)  # type: ignore[union-attr]
    uri = pyotp.TOTP(secret).provisioning_uri(name="casey", issuer_name="Test Spine Clinic nurse line")
    qr = segno.make(uri, error="m").svg_inline(scale=5, border=4, title="Two-factor QR code")
    assert qr in page  # the QR code is exactly that URI, drawn inline (no image from anywhere)
    token = csrf_token(client, "/dashboard/two-factor")
    wrong = client.post("/dashboard/two-factor", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 400 and not account(svc, "casey").totp_enabled
    assert secret in wrong.get_data(as_text=True)  # the same key, still to be confirmed
    done = client.post("/dashboard/two-factor", data={"code": pyotp.TOTP(secret).at(clock()), "csrf_token": token})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10 and 'href="/dashboard/audit"' in done.get_data(as_text=True)
    assert client.get("/dashboard/audit").status_code == 200  # enrolment completed this sign-in
    stored = account(svc, "casey")
    assert stored.totp_secret == secret and stored.totp_enabled_at == clock()
    with svc.factory() as db:
        dump = " ".join(str(row) for row in db.execute(text("SELECT * FROM recovery_codes")))
    assert dump and not any(code in dump or code.replace("-", "") in dump for code in codes)  # hashes only
    assert client.get("/dashboard/two-factor").get_data(as_text=True).count("<li><code>") == 0  # shown once

    client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})
    assert goes_to(password_step(client, "casey"), "/dashboard/login/code")
    assert goes_to(client.get("/dashboard/"), "/dashboard/login/code")
    assert code_step(client, pyotp.TOTP(secret).at(clock())).status_code == 401  # used at enrolment: never again
    assert code_step(client, "123456").status_code == 401
    clock.advance(seconds=30)
    assert goes_to(code_step(client, pyotp.TOTP(secret).at(clock())), "/dashboard/")
    assert client.get("/dashboard/audit").status_code == 200


def test_a_recovery_code_works_once(app: Flask, casey: None, svc) -> None:
    client, _, codes = enrolled(app)
    assert goes_to(password_step(client, "casey"), "/dashboard/login/code")
    signed_in = code_step(client, codes[3].upper().replace("-", " "), follow_redirects=True)  # as read off paper
    assert signed_in.request.path == "/dashboard/" and b"9 left" in signed_in.data
    client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})
    password_step(client, "casey")
    assert code_step(client, codes[3]).status_code == 401
    assert goes_to(code_step(client, codes[4]), "/dashboard/")
    with svc.factory() as db:
        assert len(db.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None))).all()) == 2


def test_new_recovery_codes_replace_the_old_ones(app: Flask, casey: None) -> None:
    client, _, old = enrolled(app)
    assert login(client, "casey").status_code == 302
    token = csrf_token(client, "/dashboard/two-factor")
    fresh = client.post("/dashboard/two-factor/recovery-codes",
                        data={"code": authenticator_code(app, "casey"), "csrf_token": token})
    new = re.findall(r"<li><code>([a-z0-9-]{14})</code></li>", fresh.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/dashboard/logout", data={"csrf_token": token})
    password_step(client, "casey")
    assert code_step(client, old[0]).status_code == 401 and goes_to(code_step(client, new[0]), "/dashboard/")


def test_a_pending_sign_in_cannot_act(app: Flask, casey: None, twilio: Twilio, svc) -> None:
    play(twilio, "hi", "no", "yes")
    client, _, _ = enrolled(app)
    password_step(client, "casey")
    token = csrf_token(client, "/dashboard/login/code")
    refused = client.post("/dashboard/cases/1/note", data={"note": "before the code", "csrf_token": token})
    assert goes_to(refused, "/dashboard/login/code")
    assert client.get("/dashboard/queue/rows", headers={"X-Requested-With": "fetch"}).status_code == 401
    with svc.factory() as db:
        assert db.scalar(text("SELECT count(*) FROM escalation_events WHERE event = 'note'")) == 0


def test_nurses_need_it_only_when_required_for_everyone(app: Flask, settings: Settings, clock: FakeClock) -> None:
    assert create_user(app, "avery", "nurse").exit_code == 0
    assert goes_to(password_step(app.test_client(), "avery"), "/dashboard/")  # default: password alone
    strict = create_app(replace(settings, dashboard_require_2fa=True), clock=clock)
    try:
        assert goes_to(password_step(strict.test_client(), "avery"), "/dashboard/two-factor")
    finally:
        strict.extensions["triage"].shutdown()
        strict.extensions["triage"].engine.dispose()
    volunteer = app.test_client()  # a nurse may turn it on herself; then it is asked every time
    assert login(volunteer, "avery").status_code == 302
    enrol_totp(volunteer)
    volunteer.post("/dashboard/logout", data={"csrf_token": csrf_token(volunteer, "/dashboard/")})
    assert goes_to(password_step(volunteer, "avery"), "/dashboard/login/code")


def test_reset_2fa_ends_the_sessions_and_asks_for_enrolment_again(app: Flask, casey: None, svc) -> None:
    client, secret, codes = enrolled(app)
    assert login(client, "casey").status_code == 302
    result = app.test_cli_runner().invoke(args=["users", "reset-2fa", "casey"])
    assert result.exit_code == 0 and "1 session(s) ended" in result.output
    assert client.get("/dashboard/").status_code == 302
    assert not account(svc, "casey").totp_enabled
    with svc.factory() as db:
        assert db.scalars(select(RecoveryCode)).all() == []
    assert goes_to(password_step(client, "casey"), "/dashboard/two-factor")  # admins must enrol again
    assert app.test_cli_runner().invoke(args=["users", "reset-2fa", "nobody"]).exit_code != 0


def test_an_admin_resets_another_accounts_two_factor_from_the_dashboard(app: Flask, casey: None, svc) -> None:
    assert create_user(app, "dana", "admin").exit_code == 0
    dana = app.test_client()
    assert login(dana, "dana").status_code == 302
    admin = app.test_client()
    assert login(admin, "casey").status_code == 302
    assert b"On since" in admin.get("/dashboard/users/dana").data
    admin.post("/dashboard/users/dana/reset-2fa", data={"csrf_token": csrf_token(admin, "/dashboard/users/dana")})
    assert not account(svc, "dana").totp_enabled and dana.get("/dashboard/").status_code == 302


def test_the_code_step_is_throttled_and_a_pending_sign_in_expires(app: Flask, casey: None,
                                                                 clock: FakeClock) -> None:
    client, _, _ = enrolled(app)
    password_step(client, "casey")
    for _ in range(5):
        assert code_step(client, "000000").status_code == 401
    slowed = code_step(client, authenticator_code(app, "casey"))
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "1"
    clock.advance(seconds=1)
    assert goes_to(code_step(client, authenticator_code(app, "casey")), "/dashboard/")
    client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/")})
    password_step(client, "casey")
    assert goes_to(client.get("/dashboard/"), "/dashboard/login/code")
    clock.advance(minutes=11)  # the code step waits ten minutes at most: then the password again
    assert goes_to(client.get("/dashboard/"), "/dashboard/login")


@pytest.fixture
def strict_app(settings: Settings, clock: FakeClock) -> Iterator[Flask]:
    application = create_app(replace(settings, dashboard_require_2fa=True), clock=clock)
    yield application
    application.extensions["triage"].shutdown()
    application.extensions["triage"].engine.dispose()


def test_users_list_shows_who_has_two_factor(strict_app: Flask) -> None:
    assert create_user(strict_app, "avery", "nurse").exit_code == 0
    assert login(strict_app.test_client(), "avery").status_code == 302  # enrolled on the way in
    assert "avery\tnurse\tactive\tavery\t2fa:on" in strict_app.test_cli_runner().invoke(args=["users", "list"]).output
