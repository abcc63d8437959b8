"""GET /metrics (issue #20, item 5): refused without METRICS_TOKEN as a bearer token; with it, text that
Prometheus' own client parser reads, and figures that move when a red flag is paged, acknowledged, or a
send fails. Under gunicorn the workers' counts add up (multiprocess mode)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from service.clock import tick
from service.models import Message
from service.settings import Settings
from tests.conftest import AUTH_TOKEN, NURSE_AVERY, PATIENT, FakeClock, Twilio, fresh_database, play
from tests.service.test_escalation_lifecycle import EMERGENCY
from tests.twilio_fake import TwilioFake, new_sid

TOKEN = "metrics-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, metrics_token=TOKEN)


def scrape(twilio: Twilio) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = twilio.client.get("/metrics", headers=AUTH)
    assert response.status_code == 200 and response.content_type.startswith("text/plain; version=")
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample, by name and labels, as Prometheus' text parser reads them."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_refused_without_the_token(twilio: Twilio) -> None:
    client = twilio.client
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics").headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0000000000"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401  # not as a bearer token
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_off_when_no_token_is_set(settings: Settings, clock: FakeClock) -> None:
    from service import create_app

    app = create_app(dataclasses.replace(settings, metrics_token=""), clock=clock)
    try:
        assert app.test_client().get("/metrics", headers=AUTH).status_code == 404
    finally:
        app.extensions["triage"].engine.dispose()


def test_the_figures_move_when_a_red_flag_is_paged_and_acknowledged(twilio: Twilio, twilio_fake, svc,
                                                                    clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    before = scrape(twilio)
    assert value(before, "triage_pages_total", result="sent") == 0
    play(twilio, EMERGENCY)
    clock.advance(seconds=90)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    after = scrape(twilio)
    assert value(after, "triage_pages_total", result="sent") == 1
    assert value(after, "triage_outcomes_total", level="ed_now") == 1
    sms = {"route": "/twilio/sms", "status": "200"}
    assert value(after, "triage_webhooks_total", **sms) - value(before, "triage_webhooks_total", **sms) == 2
    assert value(after, "triage_acknowledge_seconds_count", disposition="emergency") == 1
    assert value(after, "triage_acknowledge_seconds_sum", disposition="emergency") == 90
    assert value(after, "triage_acknowledge_seconds_bucket", disposition="emergency", le="60.0") == 0
    assert value(after, "triage_acknowledge_seconds_bucket", disposition="emergency", le="120.0") == 1
    assert value(after, "triage_outbox_backlog") == 0


def test_a_failing_send_shows_as_backlog_clock_lag_and_a_failed_page(twilio: Twilio, twilio_fake, svc,
                                                                     clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    twilio_fake.fail_next(1, status=503, operation="CreateMessage")  # the page: retried in 5 s
    play(twilio, EMERGENCY)
    clock.advance(seconds=65)  # the retry (due 5 s after the failure) has waited a minute; the ack timer not yet
    found = scrape(twilio)
    assert value(found, "triage_outbox_backlog") == 1
    assert value(found, "triage_outbox_oldest_due_seconds") == 60
    assert value(found, "triage_clock_lag_seconds", timer="messages.next_attempt_at") == 60
    assert value(found, "triage_clock_lag_seconds", timer="escalations.next_action_at") == 0
    clock.advance(minutes=2)
    assert value(scrape(twilio), "triage_clock_lag_seconds", timer="escalations.next_action_at") == 65
    twilio_fake.error_next(1, code=21211, operation="CreateMessage")  # and now refused for good
    tick(svc)
    with svc.factory() as session:
        assert session.scalar(select(Message.status).where(Message.kind == "page").order_by(Message.id)) == "failed"
    found = scrape(twilio)
    assert value(found, "triage_pages_total", result="failed") == 1
    assert value(found, "triage_clock_lag_seconds", timer="messages.next_attempt_at") == 0


def test_no_phone_number_or_patient_text_in_any_label(twilio: Twilio, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    play(twilio, EMERGENCY, "my name is Dana and I live at 12 Elm St")
    twilio.sms("MSG 1 Calling you in 5", frm=NURSE_AVERY)
    text = twilio.client.get("/metrics", headers=AUTH).get_data(as_text=True)
    labels = {v for family in text_string_to_metric_families(text) for s in family.samples for v in s.labels.values()}
    assert labels and not any(re.search(r"\d{7}", v) or "Dana" in v or "bowels" in v for v in labels), labels
    assert PATIENT not in text and "5550123" not in text


@pytest.mark.slow
def test_gunicorn_workers_add_up(tmp_path: Path) -> None:
    """Two workers, each answering webhooks: any worker's /metrics counts both."""
    from tests.process.test_gunicorn import WORKERS, start_web, stop

    with fresh_database(tmp_path) as url, TwilioFake(account_sid=new_sid("AC"), auth_token=AUTH_TOKEN) as fake:
        from service.db import make_engine
        from service.migrate import upgrade

        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        server = start_web(tmp_path, "metrics", url, fake, METRICS_TOKEN=TOKEN)
        try:
            for n in range(40):
                server.sms("hello", f"+1212555{3000 + n:04d}", new_sid("SM")).raise_for_status()
            assert len(server.worker_pids()) == WORKERS  # both answered some of them
            for _ in range(4):  # whichever worker answers the scrape
                found = samples(requests.get(server.base + "/metrics", headers=AUTH, timeout=10).text)
                assert value(found, "triage_webhooks_total", route="/twilio/sms", status="200") == 40
        finally:
            stop(server.process)
