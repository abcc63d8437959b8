"""A turn's outbound row keeps every node and message id it said (messages.key, comma-joined, uncut since
migration 0008). A clinic that gives a home-care step a longer id pushes the outcome's id past 64 characters
in that turn's keys, on the phone and by SMS; the records summary and the held-up measure still read it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.models import Message
from service.records import reading
from service.servicelevels.recontacts import load_outcomes
from service.services import Services
from service.settings import ROOT
from tests.conftest import ALL_CLEAR, FakeClock, Twilio, play
from tests.service.test_records_summary import summary_of
from tests.service.test_voice import ALL_NO, Call

LONG_STEP = "care_positions_and_getting_up_every_hour"  # a clinic's own, descriptive info node id


@pytest.fixture
def long_app(settings, clock: FakeClock, tmp_path: Path) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    for name in ("back_spasm.yaml", "back_spasm.es.yaml"):
        path = flows / name
        path.write_text(path.read_text().replace("care_positions", LONG_STEP))
    application = create_app(replace(settings, flows_dir=str(flows)), clock=clock)
    yield application
    application.extensions["triage"].shutdown()
    application.extensions["triage"].engine.dispose()


def outcome_row(svc: Services, channel: str) -> Message:
    with svc.factory() as session:
        [row] = session.scalars(select(Message).where(Message.channel == channel, Message.direction == "out",
                                                      Message.key.like(f"%{LONG_STEP}%"))).all()
    return row


def test_a_phone_call_s_long_home_care_turn_keeps_its_outcome_id(long_app: Flask, clock: FakeClock) -> None:
    svc: Services = long_app.extensions["triage"]
    call = Call(Twilio(long_app.test_client()))
    call.start()
    assert call.answer_all(ALL_NO).text.endswith("press 1. If not, press 2.")  # the text offer
    advised_at = clock.now
    clock.advance(minutes=5)
    call.press("1")  # advice by text, then goodbye: the call's last line, five minutes later
    row = outcome_row(svc, "voice")
    assert len(row.key) > 64 and row.key.split(",") == ["care_rest", "care_heat_ice", LONG_STEP, "out_home_care",
                                                        "text_offer"]
    with svc.factory() as session:
        [advice] = load_outcomes(session, svc.flows, advised_at - timedelta(hours=1), advised_at + timedelta(hours=1))
    # Read from the turn's keys, at the time it was said (the fallback would date it at the goodbye).
    assert (advice.node, advice.level, advice.at, advice.first) == ("out_home_care", "home_care", advised_at, True)


def test_an_sms_long_home_care_turn_keeps_its_outcome_id(long_app: Flask, clock: FakeClock) -> None:
    svc: Services = long_app.extensions["triage"]
    twilio = Twilio(long_app.test_client())
    play(twilio, "hi, my back went into spasm", *ALL_CLEAR)
    advised_at = clock.now
    clock.advance(minutes=5)
    play(twilio, "thanks")
    row = outcome_row(svc, "sms")
    assert len(row.key) > 64 and row.key.endswith(f"{LONG_STEP},out_home_care")
    summary = summary_of(svc)
    last = summary.exchanges[-1]
    # The outcome was said: "thanks" comes after it, not as another answer to the last question.
    assert (last.words, last.asked, last.reading.kind) == ("thanks", None, reading.AFTER)
    with svc.factory() as session:
        [advice] = load_outcomes(session, svc.flows, advised_at - timedelta(hours=1), advised_at + timedelta(hours=1))
    assert (advice.node, advice.at) == ("out_home_care", advised_at)
