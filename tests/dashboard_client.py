"""Signing in to the dashboard through Flask's test client, as a person would: the password form, then
the second factor where the account has one or needs one (codes computed by pyotp, as an authenticator
app computes them)."""

from __future__ import annotations

import re
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.models import User

PASSWORD = "correct horse battery"


def create_user(app: Flask, username: str, role: str = "nurse", name: str = "", password: str = PASSWORD) -> Any:
    args = ["users", "create", username, "--role", role, "--password-stdin"] + (["--name", name] if name else [])
    return app.test_cli_runner().invoke(args=args, input=password + "\n")


def csrf_token(client: FlaskClient, path: str = "/dashboard/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def goes_to(response: Any, path: str) -> bool:
    return response.status_code == 302 and response.headers["Location"].split("?")[0] == path


def password_step(client: FlaskClient, username: str, password: str = PASSWORD, next_path: str = "",
                  **request: Any) -> Any:
    return client.post("/dashboard/login", data={"username": username, "password": password, "next": next_path,
                                                 "csrf_token": csrf_token(client)}, **request)


def enrol_totp(client: FlaskClient) -> tuple[str, list[str]]:
    """Enrol the signed-in (or enrolment-pending) account: read the key off the page, answer with the
    app's code. Returns the secret and the recovery codes shown once."""
    page = client.get("/dashboard/two-factor").get_data(as_text=True)
    match = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert match, page
    secret = match.group(1)
    now = client.application.extensions["triage"].clock()
    # A phone whose clock is 30 s behind (accepted: one step of drift), so that this test's later
    # sign-ins at the same fake time still have a fresh step: a code is never accepted twice.
    code = pyotp.TOTP(secret).at(now, counter_offset=-1)
    token = csrf_token(client, "/dashboard/two-factor")
    done = client.post("/dashboard/two-factor", data={"code": code, "csrf_token": token})
    assert done.status_code == 200, done.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def authenticator_code(app: Flask, username: str) -> str:
    """The code the account's authenticator shows now (or one step on, when this one was used already)."""
    svc = app.extensions["triage"]
    with svc.factory() as db:
        user = db.scalars(select(User).where(User.username == username)).one()
    totp = pyotp.TOTP(user.totp_secret)
    now = svc.clock()
    step = next(s for s in (totp.timecode(now) + d for d in (-1, 0, 1))
                if user.totp_last_counter is None or s > user.totp_last_counter)
    return totp.generate_otp(step)


def code_step(client: FlaskClient, code: str, **request: Any) -> Any:
    token = csrf_token(client, "/dashboard/login/code")
    return client.post("/dashboard/login/code", data={"code": code, "csrf_token": token}, **request)


def login(client: FlaskClient, username: str, password: str = PASSWORD, next_path: str = "") -> Any:
    """Sign in; an account that needs two-factor enrols at its first sign-in, then signs in again with a code."""
    response = password_step(client, username, password, next_path)
    if goes_to(response, "/dashboard/two-factor"):
        enrol_totp(client)
        client.post("/dashboard/logout", data={"csrf_token": csrf_token(client, "/dashboard/two-factor")})
        response = password_step(client, username, password, next_path)
    if goes_to(response, "/dashboard/login/code"):
        response = code_step(client, authenticator_code(client.application, username))
    return response
