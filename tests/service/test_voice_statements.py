"""How much database work one voice callback costs: counted, not timed (bench/sms_cost.py --channel voice).

A keypad answer to a question takes the path a text takes (runtime/call_rows.py): six statements and the
commit. The count creeping up (the patient locked twice, the conversation read or saved twice, the ORM
loading rows no action needs) is how a call gets slow without any test failing.
"""

from __future__ import annotations

from service.services import Services
from tests.conftest import Twilio
from tests.service.test_sms_statements import statements
from tests.service.test_voice import Call

ANSWERING = [("SELECT", "lock the patient"), ("SELECT", "the call's conversation, receipt, answered before"),
             ("INSERT", "the key pressed"), ("UPDATE", "the conversation"), ("INSERT", "the prompt"),
             ("INSERT", "the receipt")]
RINGING = [("SELECT", "lock the patient"), ("SELECT", "the call's conversation: none yet"),
           ("SELECT", "the receipt"), ("SELECT", "the flow's version on record (flowstore.remember)"),
           ("INSERT", "the conversation"), ("INSERT", "the incoming call"),
           ("INSERT", "the language offer"), ("INSERT", "the receipt")]


def _verbs(seen: list[str]) -> list[str]:
    return [s.split(None, 1)[0].upper() for s in seen]


def test_a_keypad_answer_is_six_statements(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.start()
    call.press("2")  # the first answer (told apart by the menu) is behind us
    with statements(svc) as seen:
        reply = call.press("2")
    assert reply.has("Gather")  # the next question
    assert _verbs(seen) == [verb for verb, _ in ANSWERING], "\n".join(seen)


def test_a_repeated_callback_is_answered_from_its_receipt_in_two(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.start()
    first = call.press("2")
    with statements(svc) as seen:
        again = call.again()
    assert again.said == first.said
    assert _verbs(seen) == ["SELECT", "SELECT"], "\n".join(seen)


def test_a_known_caller_ringing_is_eight_statements(twilio: Twilio, svc: Services) -> None:
    Call(twilio).start()  # the patient exists
    with statements(svc) as seen:
        offer = Call(twilio).ring()
    assert offer.has("Gather")  # the language offer
    assert _verbs(seen) == [verb for verb, _ in RINGING], "\n".join(seen)
