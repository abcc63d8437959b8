"""Self-test of tests/twilio_fake.py, driven by the real twilio-python client.

Pointing twilio-python 9.13 at the fake: ``Client.api`` caches one ``Api``
domain and ``Domain.absolute_url`` reads ``self.base_url`` on every request,
so ``client.api.base_url = fake.base_url`` is enough (``client.messages`` and
``client.calls`` go through that same domain). ``TwilioFake.client()`` does the
same and also clears edge/region, which would otherwise rewrite the host.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openapi_spec_validator
import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tests.twilio_fake import (
    AUTH_ERROR_CODE,
    OPERATIONS,
    OPERATIONS_BY_ID,
    SPEC_ENV_VAR,
    VALIDATION_ERROR_CODE,
    TwilioFake,
    default_spec_path,
    load_spec,
    new_sid,
    twilio_fake_fixture,  # noqa: F401 - registers the `twilio_fake` fixture
)

PATIENT = "+15551230000"
NURSE_LINE = "+15557650000"
SID_RE = {prefix: re.compile(rf"^{prefix}[0-9a-f]{{32}}$") for prefix in ("AC", "SM", "CA")}


@pytest.fixture
def client(twilio_fake: TwilioFake) -> Client:
    """The documented mechanism, spelled out rather than via fake.client()."""
    client = Client(twilio_fake.account_sid, twilio_fake.auth_token)
    client.api.base_url = twilio_fake.base_url
    return client


def raw_post(fake: TwilioFake, path: str, data: Any, auth: tuple[str, str] | None = None) -> requests.Response:
    """POST bypassing twilio-python, to send what the client never would."""
    url = fake.base_url + path.format(AccountSid=fake.account_sid)
    return requests.post(url, data=data, auth=auth or (fake.account_sid, fake.auth_token), timeout=5)


def messages_path(fake: TwilioFake) -> str:
    return f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


# ----- spec loading -----------------------------------------------------------


def test_spec_is_parsed_once_and_subset_is_valid_openapi() -> None:
    spec = load_spec()
    assert load_spec() is spec  # module-level cache
    assert spec.load_seconds > 0
    openapi_spec_validator.validate(spec.document)  # raises if the extracted subset is broken
    op_ids = {
        op["operationId"]
        for item in spec.document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    assert op_ids == {"CreateMessage", "ListMessage", "CreateCall", "ListCall", "UpdateCall", "FetchMedia"}
    assert spec.conditional_groups(OPERATIONS_BY_ID["CreateMessage"]) == [
        ["From", "MessagingServiceSid"],
        ["Body", "MediaUrl", "ContentSid"],
    ]


def test_spec_path_defaults_beside_repo_and_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SPEC_ENV_VAR, raising=False)
    repo_root = Path(__file__).resolve().parents[2]
    assert default_spec_path() == repo_root.parent / "shared" / "twilio" / "twilio_api_v2010.yaml"
    monkeypatch.setenv(SPEC_ENV_VAR, str(tmp_path / "missing.yaml"))
    assert default_spec_path() == tmp_path / "missing.yaml"
    with pytest.raises(FileNotFoundError, match=SPEC_ENV_VAR):
        load_spec()


# ----- fixture & lifecycle --------------------------------------------------------


def test_fixture_exposes_credentials_and_a_live_server(twilio_fake: TwilioFake) -> None:
    assert SID_RE["AC"].match(twilio_fake.account_sid)
    assert twilio_fake.auth_token == "test-token"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", twilio_fake.base_url)
    assert raw_post(twilio_fake, "/nope", {}).status_code == 404


def test_stop_closes_the_port() -> None:
    fake = TwilioFake(new_sid("AC"), "tok")
    with fake:
        url = fake.base_url
        assert requests.get(url, timeout=2).status_code == 404
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


# ----- happy paths through the real client -------------------------------------


def test_client_create_message_is_recorded(twilio_fake: TwilioFake, client: Client) -> None:
    message = client.messages.create(
        to=PATIENT,
        from_=NURSE_LINE,
        body="Your nurse will call",
        status_callback="https://svc.example/cb",
    )

    assert SID_RE["SM"].match(message.sid)
    assert (message.status, message.to, message.from_, message.body) == (
        "queued",
        PATIENT,
        NURSE_LINE,
        "Your nurse will call",
    )
    assert message.account_sid == twilio_fake.account_sid
    assert message.uri == f"/2010-04-01/Accounts/{twilio_fake.account_sid}/Messages/{message.sid}.json"
    assert message.date_created is not None  # RFC 2822 string parsed by twilio-python
    [recorded] = twilio_fake.messages
    assert recorded["sid"] == message.sid
    assert (recorded["to"], recorded["from_"], recorded["body"]) == (
        PATIENT,
        NURSE_LINE,
        "Your nurse will call",
    )
    assert recorded["status_callback"] == "https://svc.example/cb"
    assert recorded["form"] == {
        "To": PATIENT,
        "From": NURSE_LINE,
        "Body": "Your nurse will call",
        "StatusCallback": "https://svc.example/cb",
    }
    assert twilio_fake.violations == []
    assert twilio_fake.rejected == []


def test_messaging_service_and_media_urls(twilio_fake: TwilioFake, client: Client) -> None:
    service = "MG" + "0" * 32
    media = ["https://svc.example/a.png", "https://svc.example/b.png"]
    message = client.messages.create(to=PATIENT, messaging_service_sid=service, media_url=media)

    assert message.from_ is None
    assert message.num_media == "2"
    [recorded] = twilio_fake.messages
    assert recorded["media_url"] == media
    assert recorded["messaging_service_sid"] == service
    assert recorded["form"]["MediaUrl"] == media
    assert twilio_fake.violations == []


def test_whatsapp_addresses_and_a_template_by_content_sid(twilio_fake: TwilioFake, client: Client) -> None:
    free = client.messages.create(to=f"whatsapp:{PATIENT}", from_=f"whatsapp:{NURSE_LINE}", body="hi")
    template = client.messages.create(to=f"whatsapp:{PATIENT}", from_=f"whatsapp:{NURSE_LINE}",
                                      content_sid="HX" + "c" * 32, content_variables=json.dumps({"1": "Clinic"}))

    assert (free.to, free.from_) == (f"whatsapp:{PATIENT}", f"whatsapp:{NURSE_LINE}")
    assert SID_RE["SM"].match(template.sid)
    first, second = twilio_fake.messages
    assert (first["channel"], first["body"], first["content_sid"]) == ("whatsapp", "hi", None)
    assert (second["channel"], second["body"]) == ("whatsapp", None)  # no Body: the template is the text
    assert (second["content_sid"], second["content_variables"]) == ("HX" + "c" * 32, {"1": "Clinic"})
    assert twilio_fake.violations == []


def test_create_and_update_call(twilio_fake: TwilioFake, client: Client) -> None:
    call = client.calls.create(
        to=PATIENT,
        from_=NURSE_LINE,
        url="https://svc.example/voice",
        status_callback="https://svc.example/cs",
    )

    assert SID_RE["CA"].match(call.sid)
    # CallInstance keeps "from" as the private `_from`; check the record instead.
    assert (call.status, call.to, call.direction) == ("queued", PATIENT, "outbound-api")
    [recorded] = twilio_fake.calls
    assert recorded["from_"] == NURSE_LINE
    assert (recorded["sid"], recorded["url"], recorded["status_callback"]) == (
        call.sid,
        "https://svc.example/voice",
        "https://svc.example/cs",
    )

    updated = client.calls(call.sid).update(status="completed")
    assert (updated.sid, updated.status, updated.to) == (call.sid, "completed", PATIENT)
    [update] = twilio_fake.call_updates
    assert (update["sid"], update["status"]) == (call.sid, "completed")
    assert twilio_fake.messages == []
    assert twilio_fake.violations == []


def test_fake_client_helper_survives_edge_env(monkeypatch: pytest.MonkeyPatch, twilio_fake: TwilioFake) -> None:
    # With TWILIO_EDGE set twilio-python rewrites the host; the helper clears it.
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    message = twilio_fake.client().messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")
    assert twilio_fake.messages[0]["sid"] == message.sid


def test_concurrent_sends_are_all_recorded(twilio_fake: TwilioFake) -> None:
    def send(i: int) -> None:
        twilio_fake.client().messages.create(to=PATIENT, from_=NURSE_LINE, body=f"msg {i}")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    twilio_fake.wait_for(12)
    for thread in threads:
        thread.join()
    bodies = sorted(m["body"] for m in twilio_fake.messages)
    assert bodies == sorted(f"msg {i}" for i in range(12))
    assert len({m["sid"] for m in twilio_fake.messages}) == 12


# ----- responses match the spec ------------------------------------------------------


def test_responses_validate_against_spec_schemas(twilio_fake: TwilioFake, client: Client) -> None:
    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")
    call = client.calls.create(to=PATIENT, from_=NURSE_LINE, twiml="<Response><Say>Hi</Say></Response>")
    client.calls(call.sid).update(twiml="<Response><Hangup/></Response>")
    client.calls("CA" + "f" * 32).update(status="canceled")  # call unknown to the fake
    message_sid, media_sid = twilio_fake.add_media(b"photo", "image/jpeg").split("/")[-3::2]
    client.messages(message_sid).media(media_sid).fetch()
    client.messages.list(to=PATIENT, page_size=1, limit=2)  # two pages: next_page_uri, then previous_page_uri
    client.calls.list(from_=NURSE_LINE)
    records = {
        "CreateMessage": twilio_fake.messages,
        "ListMessage": [r for r in twilio_fake.lists if r["operation"] == "ListMessage"],
        "CreateCall": twilio_fake.calls,
        "ListCall": [r for r in twilio_fake.lists if r["operation"] == "ListCall"],
        "UpdateCall": twilio_fake.call_updates,
        "FetchMedia": twilio_fake.media_fetches,
    }

    for op in OPERATIONS:
        assert records[op.operation_id], op.operation_id
        for record in records[op.operation_id]:
            path = op.path.format(AccountSid=twilio_fake.account_sid, Sid=record.get("sid"),
                                  MessageSid=record.get("message_sid"))
            body = json.dumps(record["response"]).encode()
            assert twilio_fake.spec.response_errors(op, path, op.success_status, body) == []


def test_response_check_detects_a_malformed_body(twilio_fake: TwilioFake, client: Client) -> None:
    # Guards the test above: the response validator must be able to fail.
    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")
    op = OPERATIONS_BY_ID["CreateMessage"]
    broken = {
        **twilio_fake.messages[0]["response"],
        "status": "teleported",
        "sid": "XX1",
    }
    path = op.path.format(AccountSid=twilio_fake.account_sid)
    errors = twilio_fake.spec.response_errors(op, path, 201, json.dumps(broken).encode())
    assert any("teleported" in e for e in errors)
    assert any("XX1" in e for e in errors)


# ----- request validation -----------------------------------------------------------


def test_missing_to_is_rejected_and_listed(twilio_fake: TwilioFake) -> None:
    response = raw_post(twilio_fake, messages_path(twilio_fake), {"From": NURSE_LINE, "Body": "hi"})

    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == VALIDATION_ERROR_CODE
    assert payload["status"] == 400
    assert "'To' is a required property" in payload["message"]
    [violation] = twilio_fake.violations
    assert "CreateMessage" in violation
    assert "'To' is a required property" in violation
    assert twilio_fake.messages == []
    assert twilio_fake.rejected[0]["reason"] == "validation"


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (
            {"To": PATIENT, "From": NURSE_LINE},
            "one of Body, MediaUrl, ContentSid is required",
        ),
        (
            {"To": PATIENT, "From": NURSE_LINE, "Body": ""},
            "one of Body, MediaUrl, ContentSid is required",
        ),
        ({"To": PATIENT, "Body": "hi"}, "one of From, MessagingServiceSid is required"),
        (
            {"To": PATIENT, "Body": "hi", "MessagingServiceSid": "MG123"},
            "does not match '^MG[0-9a-fA-F]{32}$'",
        ),
        (
            {
                "To": PATIENT,
                "From": NURSE_LINE,
                "Body": "hi",
                "ProvideFeedback": "maybe",
            },
            "boolean",
        ),
        (
            {"To": PATIENT, "From": NURSE_LINE, "Body": "hi", "ValidityPeriod": "soon"},
            "integer",
        ),
        (
            {"To": PATIENT, "From": NURSE_LINE, "Body": "hi", "TrafficType": "urgent"},
            "'urgent' is not one of",
        ),
        (
            {
                "To": PATIENT,
                "From": NURSE_LINE,
                "Body": "hi",
                "StatusCallBack": "https://x",
            },
            "StatusCallBack: unknown parameter",
        ),
        ({"To": f"whatsapp:{PATIENT}", "From": NURSE_LINE, "Body": "hi"}, "must be on the same channel (21910)"),
        ({"To": "whatsapp:5551230000", "From": "whatsapp:" + NURSE_LINE, "Body": "hi"}, "is not E.164"),
        ({"To": "telegram:" + PATIENT, "From": NURSE_LINE, "Body": "hi"}, "unknown channel 'telegram'"),
        ({"To": PATIENT, "From": NURSE_LINE, "Body": "hi", "ContentVariables": '{"1": "x"}'},
         "content_sid must also be provided"),
        ({"To": PATIENT, "From": NURSE_LINE, "ContentSid": "HX" + "c" * 32, "ContentVariables": '["x"]'},
         "must be a JSON object of strings"),
        ({"To": PATIENT, "From": NURSE_LINE, "ContentSid": "HX123"}, "does not match '^HX[0-9a-fA-F]{32}$'"),
    ],
)
def test_message_spec_violations(twilio_fake: TwilioFake, form: dict[str, str], expected: str) -> None:
    response = raw_post(twilio_fake, messages_path(twilio_fake), form)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert len(twilio_fake.violations) == 1
    assert expected in twilio_fake.violations[0]
    assert twilio_fake.messages == []


def test_the_remembered_verdicts_still_judge_every_constrained_value(twilio_fake: TwilioFake) -> None:
    # The spec's verdict is remembered by a request's shape: any Body passes, so Body counts only as present;
    # a constrained field's value (TrafficType's enum, ValidityPeriod's integer) is part of the shape.
    valid = {"To": PATIENT, "From": NURSE_LINE, "TrafficType": "free"}
    for n in range(3):
        assert raw_post(twilio_fake, messages_path(twilio_fake), {**valid, "Body": f"text {n}"}).status_code == 201
    assert raw_post(twilio_fake, messages_path(twilio_fake), {**valid, "TrafficType": "urgent", "Body": "text 0"}
                    ).status_code == 400
    assert raw_post(twilio_fake, messages_path(twilio_fake), {**valid, "Body": "text 0", "ValidityPeriod": "x"}
                    ).status_code == 400
    assert raw_post(twilio_fake, messages_path(twilio_fake), {**valid, "Body": ""}).status_code == 400  # blank
    assert len(twilio_fake.messages) == 3 and len(twilio_fake.violations) == 3


@pytest.mark.parametrize(
    ("path", "form", "expected"),
    [
        (
            "/2010-04-01/Accounts/{AccountSid}/Calls.json",
            {"To": PATIENT, "Url": "https://x/v"},
            "'From' is a required property",
        ),
        (
            "/2010-04-01/Accounts/{AccountSid}/Calls.json",
            {"To": PATIENT, "From": NURSE_LINE},
            "one of Url, Twiml, ApplicationSid is required",
        ),
        (
            "/2010-04-01/Accounts/{AccountSid}/Calls.json",
            {"To": PATIENT, "From": NURSE_LINE, "Url": "https://x/v", "Method": "PUT"},
            "'PUT' is not one of",
        ),
        (
            "/2010-04-01/Accounts/{AccountSid}/Calls/CA" + "1" * 32 + ".json",
            {"Status": "paused"},
            "'paused' is not one of ['canceled', 'completed']",
        ),
        (
            "/2010-04-01/Accounts/{AccountSid}/Calls/CA" + "1" * 32 + ".json",
            {"Status": "completed", "Hangup": "true"},
            "Hangup: unknown parameter",
        ),
    ],
)
def test_call_spec_violations(twilio_fake: TwilioFake, path: str, form: dict[str, str], expected: str) -> None:
    response = raw_post(twilio_fake, path, form)

    assert response.status_code == 400
    assert expected in response.json()["message"]
    assert expected in twilio_fake.violations[0]
    assert twilio_fake.calls == []
    assert twilio_fake.call_updates == []


def test_json_body_is_not_form_encoded(twilio_fake: TwilioFake) -> None:
    url = twilio_fake.base_url + messages_path(twilio_fake)
    auth = (twilio_fake.account_sid, twilio_fake.auth_token)
    response = requests.post(
        url,
        json={"To": PATIENT, "From": NURSE_LINE, "Body": "hi"},
        auth=auth,
        timeout=5,
    )

    assert response.status_code == 400
    assert "application/json" in twilio_fake.violations[0]


def test_unknown_endpoint_is_a_violation(twilio_fake: TwilioFake) -> None:
    response = raw_post(twilio_fake, "/2010-04-01/Accounts/{AccountSid}/Faxes.json", {"To": PATIENT})

    assert response.status_code == 404
    assert response.json()["code"] == 20404
    assert "Faxes.json" in twilio_fake.violations[0]


# ----- authentication -----------------------------------------------------------


def test_wrong_token_gives_401(twilio_fake: TwilioFake) -> None:
    client = Client(twilio_fake.account_sid, "wrong-token")
    client.api.base_url = twilio_fake.base_url

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")

    assert raised.value.status == 401
    assert raised.value.code == AUTH_ERROR_CODE
    assert twilio_fake.messages == []
    assert twilio_fake.rejected[0]["reason"] == "auth"
    assert "401" in twilio_fake.violations[0]


def test_missing_basic_auth_gives_401(twilio_fake: TwilioFake) -> None:
    url = twilio_fake.base_url + messages_path(twilio_fake)
    response = requests.post(url, data={"To": PATIENT, "From": NURSE_LINE, "Body": "hi"}, timeout=5)

    assert response.status_code == 401
    assert response.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }


def test_other_account_in_path_gives_404(twilio_fake: TwilioFake) -> None:
    other = f"/2010-04-01/Accounts/{new_sid('AC')}/Messages.json"
    response = raw_post(twilio_fake, other, {"To": PATIENT, "From": NURSE_LINE, "Body": "hi"})

    assert response.status_code == 404
    assert twilio_fake.messages == []
    assert len(twilio_fake.violations) == 1


# ----- fault injection -----------------------------------------------------------


def test_fail_next_raises_500_then_recovers(twilio_fake: TwilioFake, client: Client) -> None:
    twilio_fake.fail_next(1)

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body="first")
    assert raised.value.status == 500
    assert twilio_fake.messages == []

    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="second")
    assert [m["body"] for m in twilio_fake.messages] == ["second"]
    [rejected] = twilio_fake.rejected
    assert (rejected["reason"], rejected["status"], rejected["form"]["Body"]) == (
        "fault",
        500,
        "first",
    )
    assert twilio_fake.violations == []  # injected faults are not the caller's fault


def test_error_next_carries_twilio_code(twilio_fake: TwilioFake, client: Client) -> None:
    twilio_fake.error_next(1, code=21610)

    with pytest.raises(TwilioRestException) as raised:
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")

    assert raised.value.code == 21610
    assert raised.value.status == 400
    assert "unsubscribed" in raised.value.msg
    assert twilio_fake.messages == []
    assert twilio_fake.rejected[0]["code"] == 21610


def test_faults_can_target_one_operation(twilio_fake: TwilioFake, client: Client) -> None:
    twilio_fake.error_next(1, code=21211, operation="CreateCall")

    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="unaffected")
    with pytest.raises(TwilioRestException) as raised:
        client.calls.create(to="+1555", from_=NURSE_LINE, url="https://svc.example/voice")

    assert raised.value.code == 21211
    assert len(twilio_fake.messages) == 1
    assert twilio_fake.calls == []


def test_fail_next_counts_n_requests(twilio_fake: TwilioFake, client: Client) -> None:
    twilio_fake.fail_next(2, status=503)
    outcomes = []
    for _ in range(3):
        try:
            client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")
            outcomes.append("ok")
        except TwilioRestException as exc:
            outcomes.append(exc.status)
    assert outcomes == [503, 503, "ok"]


def test_delay_next_triggers_client_timeout(twilio_fake: TwilioFake) -> None:
    client = Client(
        twilio_fake.account_sid,
        twilio_fake.auth_token,
        http_client=TwilioHttpClient(timeout=0.3),
    )
    client.api.base_url = twilio_fake.base_url
    twilio_fake.delay_next(1, 1.5)

    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body="slow")
    assert time.monotonic() - started < 1.2

    # Like real Twilio, the slow request still goes through afterwards.
    twilio_fake.wait_for(1, timeout=5)
    assert twilio_fake.messages[0]["body"] == "slow"
    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="fast")  # delay consumed
    assert len(twilio_fake.messages) == 2


def test_hold_next_accepts_at_once_and_answers_on_release(twilio_fake: TwilioFake, client: Client) -> None:
    twilio_fake.hold_next(1, operation="CreateMessage")
    answers: list[str] = []
    sender = threading.Thread(target=lambda: answers.append(
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body="held").sid))
    sender.start()
    twilio_fake.wait_for(lambda: twilio_fake.holding == 1, timeout=5)
    [accepted] = twilio_fake.messages  # Twilio has it: only the answer is held
    assert answers == [] and client.messages.list(to=PATIENT)[0].sid == accepted["sid"]  # others are not held
    twilio_fake.release()
    sender.join(5)
    assert answers == [accepted["sid"]] and twilio_fake.holding == 0


# ----- the message and call lists ---------------------------------------------------


def test_message_list_filters_newest_first_in_pages(twilio_fake: TwilioFake, client: Client) -> None:
    for n in range(5):
        client.messages.create(to=PATIENT, from_=NURSE_LINE, body=f"text {n}")
    client.messages.create(to="+15551239999", from_=NURSE_LINE, body="someone else")
    listed = client.messages.list(to=PATIENT, from_=NURSE_LINE, page_size=2)
    assert [m.body for m in listed] == [f"text {n}" for n in (4, 3, 2, 1, 0)]
    pages = [r for r in twilio_fake.lists if r["operation"] == "ListMessage"]
    assert [len(r["response"]["messages"]) for r in pages] == [2, 2, 1]
    first, second, last = (r["response"] for r in pages)
    assert (first["start"], first["end"], first["page"], first["page_size"]) == (0, 1, 0, 2)
    assert first["previous_page_uri"] is None and "PageToken=PA2" in first["next_page_uri"]
    assert second["next_page_uri"] == last["uri"] and last["next_page_uri"] is None
    assert "To=%2B15551230000" in first["uri"] and "From=%2B15557650000" in first["uri"]
    assert [m.body for m in client.messages.list(to="+15551239999")] == ["someone else"]
    assert client.messages.list(from_="+15550000000") == []
    assert twilio_fake.violations == []


def test_message_list_date_sent_matches_only_sent_messages(twilio_fake: TwilioFake, client: Client) -> None:
    # The fake delivers nothing: its messages stay `queued`, with no date_sent, as Twilio's do until sent.
    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="queued at Twilio")
    day = datetime.now(UTC) - timedelta(days=1)
    assert client.messages.list(to=PATIENT, date_sent_after=day) == []
    assert client.messages.list(to=PATIENT, date_sent_before=day) == []
    assert [m.body for m in client.messages.list(to=PATIENT)] == ["queued at Twilio"]
    assert twilio_fake.violations == []


def test_call_list_filters_by_to_from_and_status(twilio_fake: TwilioFake, client: Client) -> None:
    call = client.calls.create(to=PATIENT, from_=NURSE_LINE, url="https://svc.example/voice")
    client.calls.create(to="+15551239999", from_=NURSE_LINE, url="https://svc.example/voice")
    assert [c.sid for c in client.calls.list(to=PATIENT, from_=NURSE_LINE)] == [call.sid]
    assert [c.sid for c in client.calls.list(to=PATIENT, status="queued")] == [call.sid]
    assert client.calls.list(to=PATIENT, status="completed") == []
    assert client.calls.list(to=PATIENT, start_time_after=datetime.now(UTC) - timedelta(days=1)) == []  # not begun
    assert len(client.calls.list(from_=NURSE_LINE)) == 2
    assert twilio_fake.violations == []


@pytest.mark.parametrize("query, expected", [
    ({"Too": PATIENT}, "Too: unknown query parameter"),
    ({"PageSize": "0"}, "less than the minimum of 1"),
    ({"PageSize": "1001"}, "greater than the maximum of 1000"),
    ({"PageSize": "ten"}, "PageSize"),
    ({"PageToken": "not-ours"}, "PageToken"),
    ({"DateSent>": "yesterday"}, "'yesterday' is not a 'date-time'"),
])
def test_message_list_spec_violations(twilio_fake: TwilioFake, query: dict[str, str], expected: str) -> None:
    response = requests.get(twilio_fake.base_url + messages_path(twilio_fake), params=query,
                            auth=(twilio_fake.account_sid, twilio_fake.auth_token), timeout=5)
    assert response.status_code == 400 and response.json()["code"] == VALIDATION_ERROR_CODE
    [violation] = twilio_fake.violations
    assert violation.startswith("ListMessage GET") and expected in violation


def test_message_list_needs_the_account_credentials(twilio_fake: TwilioFake) -> None:
    response = requests.get(twilio_fake.base_url + messages_path(twilio_fake), auth=(twilio_fake.account_sid, "x"),
                            timeout=5)
    assert response.status_code == 401 and response.json()["code"] == AUTH_ERROR_CODE


# ----- wait_for / reset ------------------------------------------------------------


def test_wait_for_background_sender(twilio_fake: TwilioFake) -> None:
    def send_later() -> None:
        time.sleep(0.2)
        twilio_fake.client().calls.create(to=PATIENT, from_=NURSE_LINE, url="https://svc.example/voice")

    threading.Thread(target=send_later, daemon=True).start()
    assert twilio_fake.calls == []
    twilio_fake.wait_for(lambda: len(twilio_fake.calls) == 1, timeout=5)
    assert twilio_fake.calls[0]["to"] == PATIENT


def test_wait_for_times_out_with_summary(twilio_fake: TwilioFake) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="messages=0"):
        twilio_fake.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 2


def test_reset_clears_records_and_faults(twilio_fake: TwilioFake, client: Client) -> None:
    raw_post(twilio_fake, messages_path(twilio_fake), {"Body": "no To"})
    twilio_fake.fail_next(1)
    twilio_fake.reset()

    client.messages.create(to=PATIENT, from_=NURSE_LINE, body="hi")
    assert twilio_fake.violations == []
    assert twilio_fake.rejected == []
    assert len(twilio_fake.messages) == 1
