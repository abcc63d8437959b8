"""A crisis holds the conversation with the nurse: signed webhooks, the real nurse commands, the Twilio fake."""

from __future__ import annotations

from service.services import Services
from tests.conftest import NURSE_AVERY, PATIENT, Twilio
from tests.service.test_escalation_lifecycle import pages_to, texts_to, the_case


def test_a_crisis_pages_why_holds_every_text_for_the_nurse_until_resolved(twilio: Twilio, twilio_fake,
                                                                        svc: Services) -> None:
    reply = twilio.sms("my back pain is so bad i want to kill myself")
    assert "988" in reply.text and "911" in reply.text
    [page] = pages_to(twilio_fake, NURSE_AVERY)
    assert "CRISIS" in page
    case = the_case(svc)
    assert twilio.sms(f"ACK {case.id}", frm=NURSE_AVERY).status == 200
    held = twilio.sms("RESTART")  # no automated questions while the crisis is open, not even on request
    assert "passed your message to the nurse" in held.text and "988" in held.text
    assert "fainted" not in held.text
    assert any("RESTART" in body for body in texts_to(twilio_fake, NURSE_AVERY))  # the nurse sees the words
    done = twilio.sms(f"DONE {case.id} spoke with patient, safety plan, 988 given", frm=NURSE_AVERY)
    assert done.status == 200
    after = twilio.sms("RESTART")  # resolved: the line works as usual again
    assert "fainted" in after.text.lower()
    assert PATIENT  # the default patient number of the fixtures
