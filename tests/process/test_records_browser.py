"""The case page's summary in a real headless Chromium (Debian's package, driven by Playwright): above the
transcript, English beside the Spanish words, and the FHIR download a nurse gets by clicking. Screenshot in
artifacts/."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask

from tests.process.test_dashboard_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    PASSWORD,
    browser_page,
    live_url,
    pytestmark,
    signed_sms,
)


def test_the_summary_is_on_top_and_the_bundle_downloads(app: Flask, live_url: str, browser_page: Any,  # noqa: F811
                                                        twilio_fake: Any) -> None:
    created = app.test_cli_runner().invoke(args=["users", "create", "avery", "--role", "nurse", "--name",
                                                 "Nurse Avery", "--password-stdin"], input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    for number, body in enumerate(["hola, me duele la espalda", "no", "quién sabe", "no", "sí"]):
        assert signed_sms(live_url, body, f"SM{number:032x}").status_code == 200
    page = browser_page
    page.goto(live_url + "/dashboard/cases/1")
    page.fill("input[name=username]", "avery")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#case-summary")
    summary_top = page.locator("#case-summary").bounding_box()["y"]
    history_top = page.locator("section.history").bounding_box()["y"]
    assert summary_top < history_top  # the summary first, the transcript below
    rows = page.locator("#summary-exchanges tbody tr")
    assert rows.count() == 5
    unclear = rows.nth(2).inner_text()
    assert "Since your back pain started" in unclear and "Desde que empezó" in unclear and "quién sabe" in unclear
    assert "not understood: asked again" in unclear
    assert "numbness in the groin" in page.inner_text("#summary-red-flags")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "case-summary.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#fhir-download")
    bundle = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename == "case-1-fhir.json"
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    answers = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert [i["linkId"] for i in answers[0]["item"]] == ["q_faint", "q_bladder", "q_saddle"]
