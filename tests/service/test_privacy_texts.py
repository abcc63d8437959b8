"""Follow-up texts name the clinic and ask how the patient is, never a symptom (HIPAA minimum
necessary; TCPA healthcare exemption: 160 characters). The first reply warns texts are not encrypted."""

from __future__ import annotations

import re

import pytest

from service.clock import tick
from service.engine.lint import SYMPTOM_WORDS
from service.engine.loader import FlowError, parse_flow
from service.settings import ROOT
from tests.conftest import ALL_CLEAR, PATIENT, play

FLOW = (ROOT / "flows" / "back_spasm.yaml").read_text()
CHECKIN_TEXT = re.compile(r"(  ci_how_are_you:\n    type: question\n    text: )(.*)\n")


@pytest.mark.parametrize("new, reason", [
    ('"{clinic_name}: checking in. How is your back pain today?"', "names a symptom or condition ('back')"),
    ('"Checking in. How are you feeling today?"', "must name the clinic"),
    ('"{clinic_name}: checking in. ' + "How are you feeling today? " * 5 + '"', "at most 160"),
])
def test_lint_rejects_a_check_in_that_is_not_private_or_too_long(new: str, reason: str) -> None:
    assert CHECKIN_TEXT.search(FLOW)
    changed = CHECKIN_TEXT.sub(lambda m: m.group(1) + new + "\n", FLOW)
    with pytest.raises(FlowError) as error:
        parse_flow(changed, "flows/back_spasm.yaml")
    assert any("node 'ci_how_are_you'" in p and reason in p for p in error.value.problems), error.value.problems


def test_check_in_and_reminder_texts_actually_sent_name_no_symptom(twilio, svc, clock, twilio_fake) -> None:  # type: ignore[no-untyped-def]
    play(twilio, "hi", *ALL_CLEAR)
    sent_before = len(twilio_fake.messages)
    for _ in range(4 * 24 * 60 // 10):  # four days in ten-minute steps: check-ins and their reminders
        clock.advance(minutes=10)
        tick(svc)
    followups = [m["body"] for m in twilio_fake.messages[sent_before:] if m["to"] == PATIENT]
    assert len(followups) >= 2
    for body in followups:
        assert "Test Spine Clinic" in body and len(body) <= 160, body
        # The clinic's own name may say "Spine": only the words we wrote around it count.
        assert SYMPTOM_WORDS.search(body.replace("Test Spine Clinic", "")) is None, body


def test_first_reply_says_texts_are_not_encrypted_once(twilio) -> None:  # type: ignore[no-untyped-def]
    first, second = play(twilio, "hi", "no")
    assert "not encrypted" in first.text and "911" in first.text
    assert "not encrypted" not in second.text
