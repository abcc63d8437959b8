"""POST /twilio/status: delivery receipts recorded, lost pages and check-ins followed up, carrier opt-outs."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from service.clock import tick
from service.models import Checkin, Escalation, Message, Patient
from service.outbox.transports import TwilioTransport
from tests.conftest import ALL_CLEAR, CLINIC_NUMBER, NURSE_AVERY, NURSE_BLAKE, PATIENT, Twilio, play


def callback(twilio: Twilio, sid: str, status: str, to: str, error_code: int | None = None):  # type: ignore[no-untyped-def]
    """The form Twilio posts to a message's StatusCallback."""
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": CLINIC_NUMBER, "To": to,
              "MessageStatus": status, "SmsStatus": status, "ApiVersion": "2010-04-01"}
    if error_code is not None:
        params["ErrorCode"] = str(error_code)
    return twilio.signed_post("/twilio/status", params)


def sent_to(fake, phone: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [m for m in fake.messages if m["to"] == phone]


def row(svc, sid: str) -> Message:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return session.scalars(select(Message).where(Message.twilio_sid == sid)).one()


def paged(twilio: Twilio, fake) -> dict:  # type: ignore[no-untyped-def]
    play(twilio, "hello", "yes")  # fainting: 911 outcome, the on-call nurse is paged
    [page] = sent_to(fake, NURSE_AVERY)
    return page


def test_status_is_recorded_and_never_moves_backwards(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    for status in ("queued", "sent", "delivered", "sent", "queued", "delivered"):  # repeats, out of order
        response = callback(twilio, page["sid"], status, NURSE_AVERY)
        assert response.status_code == 200 and b"<Response" in response.data
        if status == "delivered":
            assert row(svc, page["sid"]).delivery_status == "delivered"
    message = row(svc, page["sid"])
    assert (message.delivery_status, message.delivery_error_code, message.kind) == ("delivered", None, "page")
    callback(twilio, page["sid"], "undelivered", NURSE_AVERY, 30003)  # after delivered: not believed
    assert row(svc, page["sid"]).delivery_status == "delivered"
    tick(svc)
    assert sent_to(twilio_fake, NURSE_BLAKE) == []
    assert twilio_fake.violations == []


def test_the_transport_asks_for_status_callbacks(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    # Without PUBLIC_BASE_URL (the test app) no callback URL is known; with it, every text carries one.
    assert page["status_callback"] is None
    transport = TwilioTransport(replace(svc.settings, public_base_url="https://triage.example.org"))
    transport.send_sms(NURSE_AVERY, "test")
    assert twilio_fake.messages[-1]["status_callback"] == "https://triage.example.org/twilio/status"
    assert twilio_fake.violations == []


def test_undelivered_page_passes_the_case_down_the_chain_once(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    callback(twilio, page["sid"], "sent", NURSE_AVERY)
    response = callback(twilio, page["sid"], "undelivered", NURSE_AVERY, 30003)
    assert response.status_code == 200
    message = row(svc, page["sid"])
    assert (message.delivery_status, message.delivery_error_code) == ("undelivered", 30003)
    tick(svc)  # the clock takes the case's next step now, not after the ack timeout
    [next_page] = sent_to(twilio_fake, NURSE_BLAKE)
    assert "Not acknowledged by Nurse Avery" in next_page["body"] and "ACK" in next_page["body"]
    # Twilio repeats itself, or a late "failed" follows: the case does not move again.
    callback(twilio, page["sid"], "undelivered", NURSE_AVERY, 30003)
    callback(twilio, page["sid"], "failed", NURSE_AVERY, 30003)
    tick(svc)
    assert len(sent_to(twilio_fake, NURSE_BLAKE)) == 1
    assert sent_to(twilio_fake, "+12125550109") == []  # the supervisor is not paged yet
    with svc.factory() as session:
        case = session.scalars(select(Escalation)).one()
        assert case.nurse_phone == NURSE_BLAKE
        assert [e.event for e in case.events].count("page_failed") == 1
    assert twilio_fake.violations == []


def test_unsigned_or_forged_callbacks_are_refused(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    params = {"MessageSid": page["sid"], "MessageStatus": "failed", "ErrorCode": "30003"}
    assert twilio.client.post("/twilio/status", data=params).status_code == 403
    assert twilio.signed_post("/twilio/status", params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    assert row(svc, page["sid"]).delivery_status is None
    tick(svc)
    assert sent_to(twilio_fake, NURSE_BLAKE) == []


def test_malformed_or_unknown_callbacks(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    assert twilio.signed_post("/twilio/status", {"MessageStatus": "failed"}).status_code == 400
    assert twilio.signed_post("/twilio/status", {"MessageSid": page["sid"]}).status_code == 400
    assert twilio.signed_post("/twilio/status", {"MessageSid": "SM<script>", "MessageStatus": "sent"}
                              ).status_code == 400
    # A SID we never sent (another app on the account): acknowledged, nothing changes.
    assert callback(twilio, "SM" + "f" * 32, "failed", NURSE_AVERY, 30003).status_code == 200
    # A status Twilio may add one day: acknowledged, not recorded.
    assert callback(twilio, page["sid"], "teleported", NURSE_AVERY).status_code == 200
    assert callback(twilio, page["sid"], "failed", NURSE_AVERY, 99999999999).status_code == 200
    assert (row(svc, page["sid"]).delivery_status, row(svc, page["sid"]).delivery_error_code) == ("failed", None)


def checkin_sent(twilio: Twilio, twilio_fake, svc, clock) -> dict:  # type: ignore[no-untyped-def]
    """A benign patient, a day later: the 24-hour check-in goes out."""
    play(twilio, "my back hurts", *ALL_CLEAR)
    before = len(sent_to(twilio_fake, PATIENT))
    clock.advance(hours=24, minutes=1)
    tick(svc)
    texts = sent_to(twilio_fake, PATIENT)
    assert len(texts) == before + 1, texts
    return texts[-1]


def checkins(svc) -> list[Checkin]:  # type: ignore[no-untyped-def]
    with svc.factory() as session:
        return list(session.scalars(select(Checkin).order_by(Checkin.due_at)))


def test_undelivered_checkin_is_asked_again_later(twilio: Twilio, twilio_fake, svc, clock) -> None:
    text = checkin_sent(twilio, twilio_fake, svc, clock)
    assert callback(twilio, text["sid"], "undelivered", PATIENT, 30003).status_code == 200  # phone off
    first = checkins(svc)[0]
    assert first.status == "pending" and first.due_at > clock.now
    callback(twilio, text["sid"], "undelivered", PATIENT, 30003)  # repeated: still one retry
    clock.advance(hours=24)
    tick(svc)
    again = [m for m in sent_to(twilio_fake, PATIENT) if m["sid"] != text["sid"]]
    assert again[-1]["body"] == text["body"]
    assert checkins(svc)[0].status == "sent"
    assert twilio_fake.violations == []


def test_checkin_to_a_landline_is_not_retried(twilio: Twilio, twilio_fake, svc, clock) -> None:
    text = checkin_sent(twilio, twilio_fake, svc, clock)
    callback(twilio, text["sid"], "failed", PATIENT, 30006)  # landline or unreachable carrier
    assert checkins(svc)[0].status == "undeliverable"
    count = len(twilio_fake.messages)
    clock.advance(hours=24)
    tick(svc)
    assert [m for m in twilio_fake.messages[count:] if m["body"] == text["body"]] == []


def test_carrier_opt_out_in_a_callback_stops_all_texts(twilio: Twilio, twilio_fake, svc, clock) -> None:
    text = checkin_sent(twilio, twilio_fake, svc, clock)
    callback(twilio, text["sid"], "undelivered", PATIENT, 21610)
    with svc.factory() as session:
        assert session.scalars(select(Patient).where(Patient.phone == PATIENT)).one().opted_out_at == clock.now
    assert [c.status for c in checkins(svc)] == ["sent", "cancelled"]  # the 72-hour one will not go
    count = len(twilio_fake.messages)
    clock.advance(days=5)
    tick(svc)
    assert twilio_fake.messages[count:] == []


def test_carrier_opt_out_on_send_marks_the_patient_opted_out(twilio: Twilio, twilio_fake, svc, clock) -> None:
    play(twilio, "my back hurts", *ALL_CLEAR)
    twilio_fake.error_next(1, code=21610)  # "Attempt to send to unsubscribed recipient"
    clock.advance(hours=24, minutes=1)
    tick(svc)
    with svc.factory() as session:
        patient = session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()
        assert patient.opted_out_at == clock.now
        [failed] = session.scalars(select(Message).where(Message.kind == "checkin")).all()
        assert (failed.status, failed.last_error is not None) == ("failed", True)
    assert [c.status for c in checkins(svc)][1] == "cancelled"
    assert len(twilio_fake.rejected) == 1 and twilio_fake.violations == []


def test_a_nurse_number_opted_out_is_not_taken_for_the_patient(twilio: Twilio, twilio_fake, svc) -> None:
    page = paged(twilio, twilio_fake)
    callback(twilio, page["sid"], "undelivered", NURSE_AVERY, 21610)
    with svc.factory() as session:
        assert session.scalars(select(Patient).where(Patient.phone == PATIENT)).one().opted_out_at is None
    tick(svc)
    assert len(sent_to(twilio_fake, NURSE_BLAKE)) == 1
