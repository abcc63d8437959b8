"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright), against the real
app served over HTTP, with a signed Twilio webhook bringing in the case. Screenshots go to artifacts/."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from service.phones import mask
from service.settings import ROOT
from tests.conftest import AUTH_TOKEN, CLINIC_NUMBER, PATIENT, FakeClock

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "a long nurse password"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install chromium; .ci/run installs it)"),
]


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """The real app on a loopback port, in a thread (threaded: the browser and the webhooks at once)."""
    app.config["DASHBOARD_REFRESH_SECONDS"] = 1
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture
def browser_page() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(15_000)
            yield page
        finally:
            browser.close()


def signed_sms(base: str, body: str, sid: str, frm: str = PATIENT) -> requests.Response:
    """An SMS webhook exactly as Twilio sends it: form-encoded and signed for this URL."""
    url = base + "/twilio/sms"
    params = {"From": frm, "To": CLINIC_NUMBER, "Body": body, "MessageSid": sid, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def wait_until(predicate: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_nurse_works_a_red_flag_case_from_queue_to_resolved(app: Flask, live_url: str, browser_page: Any,
                                                            twilio_fake: Any) -> None:
    created = app.test_cli_runner().invoke(args=["users", "create", "avery", "--role", "nurse", "--name",
                                                 "Nurse Avery", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page

    # Not logged in: sent to the login form.
    page.goto(live_url + "/dashboard/")
    assert "/dashboard/login" in page.url
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Queue')")
    assert page.locator("tr.empty").inner_text() == "No open cases."

    # A patient texts red-flag answers through the signed webhook; the open queue page picks the case up.
    for number, body in enumerate(["hi, my back is in spasm", "no", "yes"]):
        reply = signed_sms(live_url, body, f"SM{number:032x}")
        assert reply.status_code == 200, reply.text
    assert "emergency department" in reply.text
    row = page.wait_for_selector("tr.disposition-emergency[data-case]")  # arrives by the page's own refresh
    assert "loss of bladder or bowel control" in row.inner_text()
    assert mask(PATIENT) in row.inner_text() and PATIENT not in page.content()
    page.screenshot(path=str(ARTIFACTS / "dashboard-queue.png"), full_page=True)

    # Open it: the whole conversation and the full number to call back.
    page.click("tr.disposition-emergency a.case-link")
    page.wait_for_selector("h1:has-text('Case')")
    assert "212-555-0123" in page.inner_text("a.phone-full")
    assert "hi, my back is in spasm" in page.inner_text("table.timeline")

    page.click("#acknowledge")
    page.wait_for_selector(".flash-success:has-text('is yours')")
    assert page.inner_text("#case-status") == "acknowledged"

    # A form stripped of its CSRF token is refused.
    page.evaluate("document.querySelector(\"form[action$='/note'] input[name=csrf_token]\").remove()")
    page.fill("#note-text", "forged")
    page.click("#add-note")
    page.wait_for_selector("h1:has-text('Form refused')")
    page.go_back()
    page.reload()

    page.fill("#message-text", "Nurse here: please go to the ED now, I have called ahead.")
    page.click("#send-message")
    page.wait_for_selector(".flash-success:has-text('Message to the patient')")
    expected = "Nurse Avery (Test Spine Clinic): Nurse here: please go to the ED now, I have called ahead."
    wait_until(lambda: any(m["to"] == PATIENT and m["body"] == expected for m in twilio_fake.messages),
               "the relayed text at the Twilio fake")
    assert "forged" not in page.inner_text("table.timeline")
    page.screenshot(path=str(ARTIFACTS / "dashboard-case.png"), full_page=True)

    page.fill("#resolve-note", "Called back; patient on the way to the ED.")
    page.click("#resolve")
    page.wait_for_selector(".flash-success:has-text('resolved')")
    page.click("nav a:has-text('Queue')")
    page.wait_for_selector("tr.empty")

    page.click("nav a:has-text('On call')")
    page.wait_for_selector("table.schedule")  # count() does not wait: read the new page, not the queue's
    assert page.locator("table.schedule tr.gap").count() == 3  # the example roster's weekend nights
    page.screenshot(path=str(ARTIFACTS / "dashboard-on-call.png"), full_page=True)

    # The flow as a diagram, drawn from the served YAML.
    page.click("nav a:has-text('Flows')")
    page.click("a:has-text('back_spasm')")
    page.wait_for_selector("#flow-diagram svg")
    assert page.locator("#flow-diagram path.edge-red_flag").count() >= 6
    page.screenshot(path=str(ARTIFACTS / "dashboard-flow.png"))
    picture = page.inner_html("#flow-diagram")  # the whole picture, uncropped by the page's scroll box
    page.set_content(f"<!doctype html><html><body style='margin:0'>{picture}</body></html>")
    page.screenshot(path=str(ARTIFACTS / "flow-diagram.png"), full_page=True)
    assert twilio_fake.violations == []


def test_admin_enrols_two_factor_and_is_warned_before_the_idle_timeout(app: Flask, live_url: str,
                                                                      browser_page: Any, clock: FakeClock) -> None:
    """Enrolment with the QR code, sign-in with the code an authenticator computes; then the queue page
    left open: its refreshes do not keep the session, the warning shows two minutes before the idle
    timeout, "Stay signed in" keeps it, and once it has passed the page lands on the login form."""
    created = app.test_cli_runner().invoke(args=["users", "create", "casey", "--role", "admin", "--name",
                                                 "Supervisor Casey", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    app.config["DASHBOARD_SESSION_POLL_SECONDS"] = 1  # ask the time left every second (60 in service)
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page

    page.goto(live_url + "/dashboard/")
    page.fill("input[name=username]", "casey")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Two-factor sign-in')")  # an admin must enrol first
    qr = page.locator("#totp-qr svg").bounding_box()
    assert qr is not None and qr["width"] > 100 and qr["height"] > 100
    page.screenshot(path=str(ARTIFACTS / "dashboard-two-factor-enrol.png"), full_page=True)
    secret = page.inner_text("#totp-secret")
    page.fill("input[name=code]", pyotp.TOTP(secret).at(clock()))
    page.click("form[action$='/two-factor'] button[type=submit]")
    page.wait_for_selector("h1:has-text('Your recovery codes')")
    assert page.locator("#recovery-codes li").count() == 10
    page.click("a:has-text('Continue')")
    page.wait_for_selector("h1:has-text('Queue')")
    assert page.locator("#session-warning").is_hidden()

    clock.advance(minutes=28, seconds=30)  # nobody touches the page: only its own refreshes run
    stamp = page.inner_text("#updated")
    wait_until(lambda: page.inner_text("#updated") != stamp, "the queue to refresh itself")
    warning = page.wait_for_selector("#session-warning:not([hidden])")
    assert "because of inactivity" in warning.inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-idle-warning.png"))
    page.click("#stay-signed-in")
    page.wait_for_selector("#session-warning", state="hidden")

    clock.advance(minutes=31)  # 31 minutes after "Stay signed in", refreshing all along
    page.wait_for_selector("h1:has-text('Log in')")
    assert "without activity" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "dashboard-idle-ended.png"))


def test_a_patients_photo_shows_on_the_case_page_fetched_by_the_dashboard(app: Flask, live_url: str,
                                                                          browser_page: Any, twilio_fake: Any) -> None:
    """Issue #19, item 2: an MMS photo at a red-flag question, then "yes"; the nurse sees the picture, which
    the browser gets from the dashboard (signed in), never from Twilio."""
    from tests.service.test_media import png

    created = app.test_cli_runner().invoke(args=["users", "create", "avery", "--role", "nurse", "--name",
                                                 "Nurse Avery", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    ARTIFACTS.mkdir(exist_ok=True)
    media_url = twilio_fake.add_media(png(40, 30), "image/png")
    url = live_url + "/twilio/sms"
    for number, (body, extra) in enumerate([("hello", {}), ("no", {}), ("", {
            "NumMedia": "1", "MediaUrl0": media_url, "MediaContentType0": "image/png"}), ("yes", {})]):
        params = {"From": PATIENT, "To": CLINIC_NUMBER, "Body": body, "MessageSid": f"MM{number:032x}",
                  "AccountSid": "AC" + "0" * 32, **extra}
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        reply = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)
        assert reply.status_code == 200, reply.text
        if extra:
            assert "can't look at photos" in reply.text
    assert "emergency department" in reply.text

    page = browser_page
    page.goto(live_url + "/dashboard/")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("tr.disposition-emergency a.case-link")
    image = page.wait_for_selector("img.media-thumb")
    wait_until(lambda: page.evaluate("document.querySelector('img.media-thumb').complete"), "the photo to load")
    assert page.evaluate("document.querySelector('img.media-thumb').naturalWidth") == 40  # decoded: a real picture
    assert (image.get_attribute("src") or "").startswith("/dashboard/media/")
    assert twilio_fake.base_url not in page.content()
    assert [(f["via"], f["authorized"]) for f in twilio_fake.media_fetches] == [("api", True), ("cdn", False)]
    page.screenshot(path=str(ARTIFACTS / "dashboard-case-photo.png"), full_page=True)
