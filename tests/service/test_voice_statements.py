"""How much database work one voice callback costs: counted, not timed (bench/sms_cost.py --channel voice).

A keypad answer to a question takes the path a text takes (runtime/call_rows.py): six statements and the
commit. The count creeping up (the patient locked twice, the conversation read or saved twice, the ORM
loading rows no action needs) is how a call gets slow without any test failing.
"""

from __future__ import annotations

from sqlalchemy import event

from service.services import Services
from tests.conftest import Twilio
from tests.service.test_sms_statements import statements
from tests.service.test_voice import ALL_NO, TEXT_OFFER, Call, patient_texts

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


def test_a_flow_version_on_record_is_not_looked_up_again(twilio: Twilio, svc: Services) -> None:
    Call(twilio).start()  # the version recorded (its transaction's own insert)
    Call(twilio).ring()  # found on record: the process remembers it
    with statements(svc) as seen:
        offer = Call(twilio).ring()
    assert offer.has("Gather")
    expected = [verb for verb, why in RINGING if "flowstore.remember" not in why]
    assert _verbs(seen) == expected and not any("flow_versions" in s for s in seen), "\n".join(seen)


def test_the_text_offer_stages_the_advice_in_the_webhook_s_one_transaction(twilio: Twilio, twilio_fake,  # type: ignore[no-untyped-def]
                                                                           svc: Services) -> None:
    # Held advice is not handed to the outbox: no send attempt (a transaction of its own) for texts that
    # must not go until the caller accepts.
    call = Call(twilio)
    call.start()
    for key in ALL_NO[:-1]:
        call.press(key)
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(svc.engine, "commit", count)
    try:
        offer = call.press(ALL_NO[-1])
    finally:
        event.remove(svc.engine, "commit", count)
    assert offer.text.endswith(TEXT_OFFER)
    assert len(commits) == 1  # the webhook's own; none for a send attempt
    assert patient_texts(twilio_fake) == []  # and nothing sent before the caller accepts
