"""The service-levels page and the callback button in a real headless Chromium (Debian's package, driven by
Playwright), against the real app over HTTP, after the scripted week of tests/service/test_service_levels.py.
Screenshots go to artifacts/."""

from __future__ import annotations

import dataclasses
from typing import Any

import pyotp
import pytest
from flask import Flask

from service.settings import Settings
from tests.conftest import NURSE_AVERY, FakeClock, Twilio
from tests.process.test_dashboard_browser import ARTIFACTS, CHROMIUM, PASSWORD, browser_page, live_url, wait_until  # noqa: F401
from tests.service.test_advice_held_up import PERIOD, play_the_fortnight
from tests.service.test_service_levels import play_the_week

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, public_base_url="http://localhost")  # calls that run our webhooks


def test_service_levels_and_a_callback_from_the_case_page(app: Flask, live_url: str, browser_page: Any,  # noqa: F811
                                                          twilio: Twilio, twilio_fake: Any, svc: Any,
                                                          clock: FakeClock) -> None:
    cases = play_the_week(twilio, twilio_fake, svc, clock)
    created = app.test_cli_runner().invoke(args=["users", "create", "avery", "--role", "nurse", "--name",
                                                 "Nurse Avery", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page
    page.goto(live_url + "/dashboard/")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Queue')")

    page.click("nav a:has-text('Service levels')")
    page.wait_for_selector("h1:has-text('Service levels')")
    assert page.inner_text("#share-emergency-ack .big") == "75%"
    assert page.inner_text("#share-callback-contact .big") == "50%"
    assert page.locator("#missed li").count() == 3
    for plot in ("#plot-daily", "#plot-contact"):  # served by the app, drawn, and allowed by the page's CSP
        wait_until(lambda plot=plot: page.eval_on_selector(plot, "img => img.complete && img.naturalWidth > 0"),
                   f"{plot} to load")
    page.screenshot(path=str(ARTIFACTS / "dashboard-service-levels.png"), full_page=True)

    page.click("a:has-text('30 days')")
    page.wait_for_selector("a[aria-current=page]:has-text('30 days')")
    page.fill("#from", "2026-03-03")
    page.fill("#to", "2026-03-03")
    page.click("#show-dates")
    page.wait_for_selector("#period-words:has-text('2 cases')")

    # A missed case, from the list; then the newest open one, called back through the clinic number.
    page.click("nav a:has-text('Service levels')")
    page.click(f"#missed li[data-case='{cases['C2']}'] a")
    page.wait_for_selector(f"h1:has-text('Case {cases['C2']}')")
    assert "45 min after opening" in page.inner_text("dd[data-time='First contact']")
    page.goto(live_url + f"/dashboard/cases/{cases['E5']}")
    page.click("#call-patient")
    page.wait_for_selector(".flash-success:has-text('Calling you at +1 212-555-0101')")
    wait_until(lambda: any(c["to"] == NURSE_AVERY and c["url"].endswith(f"callback={2}")
                           for c in twilio_fake.calls), "the call to the nurse at the Twilio fake")
    assert "under way" in page.inner_text("ul.callbacks")
    page.screenshot(path=str(ARTIFACTS / "dashboard-case-callback.png"), full_page=True)
    assert twilio_fake.violations == []


def test_the_clinical_lead_reviews_advice_that_did_not_hold_up(app: Flask, live_url: str, browser_page: Any,  # noqa: F811
                                                                twilio: Twilio, svc: Any, clock: FakeClock) -> None:
    conversations = play_the_fortnight(twilio, svc, clock)
    created = app.test_cli_runner().invoke(args=["users", "create", "lead", "--role", "admin", "--name",
                                                 "Dr Lead", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser_page
    page.goto(live_url + PERIOD.replace("/held-up", ""))
    page.fill("input[name=username]", "lead")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Two-factor sign-in')")  # an admin enrols first
    page.fill("input[name=code]", pyotp.TOTP(page.inner_text("#totp-secret")).at(clock()))
    page.click("form[action$='/two-factor'] button[type=submit]")
    page.click("a:has-text('Continue')")
    page.goto(live_url + PERIOD.replace("/held-up", ""))
    assert page.inner_text("#held-up .big") == "62%"  # 5 of the 8 decided held up; 1 pending
    page.click("#held-up-link")
    page.wait_for_selector("h1:has-text('Did the advice hold up')")
    assert page.locator("li.recontact").count() == 3
    first = f"#advice-{conversations['A']}"
    page.fill(f"{first} textarea", "Worse at the 24 h check-in with bladder symptoms: advice was reasonable.")
    page.click(f"{first} button.mark-reviewed")
    page.wait_for_selector(".flash-success:has-text('Review of conversation')")
    assert "Reviewed by lead" in page.inner_text(f"{first} .reviewed")
    page.screenshot(path=str(ARTIFACTS / "dashboard-advice-held-up.png"), full_page=True)
