"""Hostile input: hypothesis drives the SMS and voice webhooks with arbitrary bodies, digits, speech and
form fields (missing, repeated, huge, control characters, bytes that are not UTF-8).

Always a 200 with valid TwiML (or a 4xx for a request that is not Twilio's), never a 500, and the
database stays consistent: every text taken has its webhook receipt, once; every conversation sits
on a node of its flow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.test import EnvironBuilder

from service.engine.state import State
from service.models import Conversation, Message, WebhookReceipt
from service.services import Services
from tests.conftest import CLINIC_NUMBER, NURSE_AVERY, PATIENT, Twilio

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
FORM = "application/x-www-form-urlencoded"

words = st.sampled_from(["yes", "no", "YES!", "nope", "1", "2", "STOP", "START", "HELP", "NURSE", "RESTART",
                         "ACK 1", "my legs went numb", "I can't control my bladder", "no fever", "hola", "",
                         " ", "\x00", "\u202e", "\ufeff", "😀" * 50, "A" * 1700, "é" * 2100, "<Response/>",
                         "]]><x>", "%FF", "\r\n\r\n"])
bodies = st.one_of(words, st.text(max_size=400), st.text(st.characters(codec="utf-8"), max_size=3000),
                   st.lists(words, max_size=6).map(" ".join))
phones = st.one_of(st.sampled_from([PATIENT, "+12125550124", NURSE_AVERY, "2125550125", "+442071838750",
                                    "anonymous", "+266696687", "", "+1", "+99999999999999999"]),
                   st.text(max_size=25))
sids = st.one_of(st.sampled_from([f"SM{i:032x}" for i in range(8)]), st.text(max_size=40))
extra_fields = st.lists(st.tuples(st.text(min_size=1, max_size=20), st.text(max_size=100)), max_size=4)


@st.composite
def sms_forms(draw: Any) -> list[tuple[str, str]]:
    """Twilio's fields, each present or not (or twice), plus fields Twilio never sends."""
    fields = [("From", draw(phones)), ("To", CLINIC_NUMBER), ("Body", draw(bodies)), ("MessageSid", draw(sids)),
              ("AccountSid", "AC" + "0" * 32), ("NumMedia", draw(st.sampled_from(["0", "1", "-1", "x"])))]
    pairs: list[tuple[str, str]] = []
    for field in fields:
        copies = draw(st.sampled_from([1, 1, 1, 0, 2]))
        pairs += [field] * copies if copies < 2 else [field, (field[0], draw(bodies))]
    return pairs + draw(extra_fields)


def decoded(raw: bytes) -> MultiDict[str, str]:
    """A form body as the server reads it (bytes that are not UTF-8 included)."""
    return EnvironBuilder(method="POST", data=raw, content_type=FORM).get_request().form


def post(twilio: Twilio, path: str, raw: bytes) -> Any:
    """Signed the way Twilio signs: the URL plus the parameters the server will see."""
    signature = twilio.validator.compute_signature(twilio.base + path, decoded(raw))
    return twilio.client.post(path, data=raw, content_type=FORM, headers={"X-Twilio-Signature": signature})


def assert_twiml(response: Any) -> ET.Element:
    assert response.status_code == 200, (response.status_code, response.get_data()[:300])
    assert response.mimetype in ("application/xml", "text/xml")
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"
    return root


def fell_back(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Handlers that hit an error and answered with the safe fallback: safe, but a bug for real input."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(("sms.failed", "voice.failed"))]


def assert_consistent(svc: Services) -> None:
    with svc.factory() as session:
        taken = Counter(session.scalars(select(Message.twilio_sid).where(
            Message.direction == "in", Message.channel == "sms", Message.twilio_sid.is_not(None))))
        receipts = set(session.scalars(select(WebhookReceipt.key)))
        for sid, count in taken.items():
            assert count == 1, f"text {sid!r} taken {count} times"
            assert f"sms:{sid}" in receipts, f"text {sid!r} has no receipt"
        for conversation in session.scalars(select(Conversation)):
            flow = svc.flows.pinned(session, conversation.flow_id, conversation.flow_version).flow
            state = State.from_json(conversation.state)
            assert conversation.node is None or conversation.node in flow.nodes, conversation.node
            assert state.node == conversation.node


@FUZZ
@given(pairs=sms_forms())
def test_sms_webhook_answers_any_form_with_twiml(twilio: Twilio, svc: Services, twilio_fake, caplog, pairs) -> None:
    caplog.clear()
    response = post(twilio, "/twilio/sms", urlencode(pairs).encode())
    root = assert_twiml(response)
    for message in root.iter("Message"):
        assert message.text and message.text.strip()
    assert fell_back(caplog) == []
    assert_consistent(svc)
    assert twilio_fake.violations == []


not_utf8 = st.lists(st.sampled_from([b"%FF", b"%FE", b"%C3", b"%C3%28", b"%E2%82", b"%ED%A0%80", b"%F0%9F",
                                     b"%00", b"%0D%0A", b"yes", b"no", b"+", b"%", b"%G1", b"&", b"="]),
                    min_size=1, max_size=12).map(b"".join)


@FUZZ
@given(body=not_utf8, frm=st.sampled_from([b"%2B12125550123", b"%FF%FE", b""]), sid=st.integers(0, 5))
def test_sms_webhook_survives_bytes_that_are_not_utf8(twilio: Twilio, svc: Services, caplog, body, frm, sid) -> None:
    caplog.clear()
    raw = b"From=" + frm + b"&To=%2B12125550100&MessageSid=SM" + f"{sid:032x}".encode() + b"&Body=" + body
    assert_twiml(post(twilio, "/twilio/sms", raw))
    assert fell_back(caplog) == []
    assert_consistent(svc)


def test_oversized_or_unsigned_requests_get_a_4xx_not_a_500(twilio: Twilio) -> None:
    huge = urlencode({"From": PATIENT, "Body": "x" * 300_000, "MessageSid": "SM" + "1" * 32}).encode()
    assert post(twilio, "/twilio/sms", huge).status_code == 413
    assert twilio.client.post("/twilio/sms", data={"From": PATIENT, "Body": "hi"}).status_code == 403
    assert twilio.client.post("/twilio/sms", data=b"\xff\xfe\x00", content_type=FORM,
                              headers={"X-Twilio-Signature": "\u00e9"}).status_code == 403
    assert twilio.client.get("/twilio/sms").status_code == 405


def has_route(app: Flask, rule: str) -> bool:
    return any(r.rule == rule for r in app.url_map.iter_rules())


confidences = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str), st.text(max_size=12),
                        st.sampled_from(["", "0.93", "nan", "-inf", "1e999", "0.0000001"]))
digits = st.one_of(st.text("0123456789*#", max_size=4), st.text(max_size=20))
speech = st.one_of(words, st.text(max_size=600))
call_sids = st.sampled_from([f"CA{i:032x}" for i in range(4)] + [""])


@st.composite
def voice_forms(draw: Any) -> list[tuple[str, str]]:
    pairs = [("CallSid", draw(call_sids)), ("From", draw(phones)), ("To", CLINIC_NUMBER),
             ("AccountSid", "AC" + "0" * 32), ("CallStatus", "in-progress")]
    for name, values in (("Digits", digits), ("SpeechResult", speech), ("Confidence", confidences)):
        copies = draw(st.sampled_from([0, 1, 1, 2]))
        pairs += [(name, draw(values)) for _ in range(copies)]
    return pairs + draw(extra_fields)


query_values = st.one_of(st.sampled_from(["language", "question", "offer", "closing", "0", "1", "7", "-1",
                                          "999999999999"]),
                         st.text("abcdefghijklmnopqrstuvwxyz0123456789_-", max_size=12))


@FUZZ
@given(steps=st.lists(st.tuples(voice_forms(), st.dictionaries(st.sampled_from(["at", "step", "tries"]),
                                                                query_values)), min_size=1, max_size=4))
def test_voice_webhooks_answer_any_input_with_twiml(app: Flask, twilio: Twilio, svc: Services, twilio_fake,
                                                     caplog, steps) -> None:
    if not has_route(app, "/twilio/voice"):
        pytest.skip("POST /twilio/voice does not exist yet")
    caplog.clear()
    first, _ = steps[0]
    root = assert_twiml(post(twilio, "/twilio/voice", urlencode(first).encode()))
    assert len(root) > 0  # never silence: the caller hears something, or is put through
    for pairs, query in steps[1:]:
        path = "/twilio/voice/answer" + ("?" + urlencode(query, quote_via=quote) if query else "")
        root = assert_twiml(post(twilio, path, urlencode(pairs).encode()))
        assert len(root) > 0
    if all(dict(pairs).get("CallSid") for pairs, _ in steps):  # Twilio always sends one
        assert fell_back(caplog) == []
    assert_consistent(svc)
    assert twilio_fake.violations == []
