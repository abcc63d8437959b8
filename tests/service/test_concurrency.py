"""Webhooks that arrive at the same moment: a retried MessageSid advances the conversation once, and
several texts from one number are each handled once, in some order, without losing any.

Each thread has its own Flask test client on the same app (and database); a barrier releases them
together. Runs on SQLite and, with DATABASE_URL set to Postgres, on Postgres.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from service.models import Conversation, Message, WebhookReceipt
from tests.conftest import Twilio, TwimlReply, play

# The screen when every answer is "no": where the conversation is after n answers.
NO_PATH = ["q_faint", "q_bladder", "q_saddle", "q_legs", "q_fever", "q_worsening", "q_injury", "q_sudden_over_60",
           "q_daily", "q_rest", "q_history", "q_lasting"]
FALLBACK = "could not read your message"


def sid(n: int) -> str:
    # Far from the SIDs the `twilio` fixture numbers from 1, so no text here repeats one of those.
    return f"SM{0xC0C0C0 + n:032x}"


def at_once(app: Flask, calls: list[Callable[[Twilio], TwimlReply]]) -> list[TwimlReply]:
    """Run each call on its own thread and test client, all released together."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        client = Twilio(app.test_client())
        barrier.wait()
        try:
            results[index] = calls[index](client)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a webhook never answered (deadlock?)"
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def counts(svc) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        inbound = session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in"))
        replies = session.scalar(select(func.count()).select_from(Message).where(Message.kind == "reply"))
        receipts = session.scalar(select(func.count()).select_from(WebhookReceipt))
    return inbound, replies, receipts


def the_conversation(svc) -> Conversation:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Conversation)).one()


def test_same_message_sid_at_the_same_moment_advances_once(app: Flask, twilio: Twilio, svc) -> None:
    play(twilio, "hi")
    rounds = 4
    for n in range(1, rounds + 1):
        first, second = at_once(app, [lambda t, n=n: t.sms("no", sid=sid(n))] * 2)
        assert first.status == second.status == 200
        assert first.texts == second.texts and first.texts, "the retry gets the same answer"
        assert FALLBACK not in first.text
        assert the_conversation(svc).node == NO_PATH[n]
    inbound, replies, receipts = counts(svc)
    assert (inbound, replies) == (1 + rounds, 1 + rounds)  # "hi" and one row per distinct MessageSid
    assert receipts == 1 + rounds


def test_many_copies_of_one_webhook_at_once(app: Flask, twilio: Twilio, svc) -> None:
    play(twilio, "hi")
    replies = at_once(app, [lambda t: t.sms("no", sid=sid(99))] * 6)
    assert {r.status for r in replies} == {200}
    assert len({tuple(r.texts) for r in replies}) == 1
    assert the_conversation(svc).node == "q_bladder"
    assert counts(svc)[:2] == (2, 2)


def test_different_texts_from_one_number_at_once_are_each_handled_once(app: Flask, twilio: Twilio, svc) -> None:
    play(twilio, "hi")
    answered = 0
    for round_ in range(3):
        replies = at_once(app, [lambda t, i=i, r=round_: t.sms("no", sid=sid(1000 + 10 * r + i)) for i in range(2)])
        assert [r.status for r in replies] == [200, 200]
        assert not any(FALLBACK in r.text for r in replies), [r.text for r in replies]
        answered += 2
        # Each text moved the screen one step: between them the replies asked the next two questions.
        asked = sorted(NO_PATH.index(node) for r in replies for node in _asked(r.text))
        assert asked == [answered - 1, answered], [r.text for r in replies]
        assert the_conversation(svc).node == NO_PATH[answered]
    inbound, replies_stored, receipts = counts(svc)
    assert (inbound, replies_stored, receipts) == (1 + answered, 1 + answered, 1 + answered)


def test_a_burst_of_texts_from_one_number(app: Flask, twilio: Twilio, svc) -> None:
    play(twilio, "hi")
    burst = 6
    replies = at_once(app, [lambda t, i=i: t.sms("no", sid=sid(5000 + i)) for i in range(burst)])
    assert {r.status for r in replies} == {200}
    assert not any(FALLBACK in r.text for r in replies)
    conversation = the_conversation(svc)
    assert conversation.node == NO_PATH[burst]
    assert len(conversation.state["answers"]) == burst
    assert counts(svc) == (1 + burst, 1 + burst, 1 + burst)


def test_first_texts_from_a_new_number_at_once_make_one_patient_and_one_conversation(app: Flask, svc) -> None:
    replies = at_once(app, [lambda t, i=i: t.sms("hi" if i == 0 else "hello", sid=sid(7000 + i)) for i in range(3)])
    assert {r.status for r in replies} == {200}
    assert not any(FALLBACK in r.text for r in replies)
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 1
        patients = session.scalars(select(Message.patient_id).where(Message.direction == "in")).all()
    assert len(patients) == 3 and len(set(patients)) == 1


def _asked(text: str) -> list[str]:
    """Which screening questions a reply asks, by a phrase only that question uses."""
    markers = {
        "q_bladder": "lost control of your bladder", "q_saddle": "numbness around your groin",
        "q_legs": "weakness or numbness in your legs", "q_fever": "fever, chills",
        "q_worsening": "getting worse and worse", "q_injury": "start after an injury",
        "q_sudden_over_60": "60 or older",
    }
    return [node for node, marker in markers.items() if marker in text]


def test_markers_name_each_question_once() -> None:
    # Guard for _asked: each marker must be in its own question's text only, or the test above proves nothing.
    from service.engine.loader import load_flow
    from service.settings import ROOT

    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    for node_id in NO_PATH[1:7]:
        text = flow.nodes[node_id].text["en"]
        assert _asked(text) == [node_id], node_id

