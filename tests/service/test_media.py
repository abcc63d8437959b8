"""Photos and files (MMS) through the signed webhook, the Twilio fake serving the media, and the dashboard
fetching it for a signed-in nurse with the account's credentials.

A photo with no words answers nothing (the engine decides: `media` is its own input) and is asked for in
words with the 911 line; a photo with words is read as words; either way the link is kept on the
conversation and the nurse sees the picture on the case page, never Twilio's URL."""

from __future__ import annotations

import struct
import zlib

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.engine.loader import load_flow
from service.engine.state import State
from service.engine.step import MEDIA_QUOTE, step
from service.models import AuditLog, Conversation, Escalation, Message, MessageMedia
from service.services import Services
from service.settings import ROOT
from tests.conftest import NURSE_AVERY, PATIENT, Twilio, TwimlReply, play
from tests.dashboard_client import create_user, login
from tests.twilio_fake import TwilioFake

PHOTO_EN = "We can't look at photos by text. Please tell us in words what is wrong. In an emergency, call 911."
PHOTO_ES = "No podemos ver fotos por mensaje de texto."
BLADDER = "lost control of your bladder or bowels"


def png(width: int = 3, height: int = 2) -> bytes:
    """A real PNG (red pixels), small enough to read in a failure message and decodable by a browser."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def mms(twilio: Twilio, fake: TwilioFake, body: str = "", *items: tuple[bytes, str], frm: str = PATIENT) -> TwimlReply:
    """An incoming MMS as Twilio sends it: NumMedia, then MediaUrl<n> and MediaContentType<n>."""
    media = items or ((png(), "image/png"),)
    extra = {"NumMedia": str(len(media))}
    for n, (content, kind) in enumerate(media):
        extra[f"MediaUrl{n}"] = fake.add_media(content, kind)
        extra[f"MediaContentType{n}"] = kind
    reply = twilio.sms(body, frm=frm, **extra)
    assert reply.status == 200, reply.raw
    return reply


def conversation(svc: Services) -> Conversation:
    with svc.factory() as session:
        return session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()  # type: ignore[return-value]


def media_rows(svc: Services) -> list[MessageMedia]:
    with svc.factory() as session:
        return list(session.scalars(select(MessageMedia).order_by(MessageMedia.id)))


def test_a_photo_at_a_red_flag_question_answers_nothing_then_yes_pages(svc: Services, twilio: Twilio,
                                                                         twilio_fake: TwilioFake) -> None:
    play(twilio, "hello", "no")  # at the bladder question
    before = conversation(svc)
    assert before.node == "q_bladder"

    reply = mms(twilio, twilio_fake)
    assert PHOTO_EN in reply.text and BLADDER in reply.text  # asked in words, and the question again
    after = conversation(svc)
    assert (after.node, after.state["answers"], after.state["misses"]) == ("q_bladder", before.state["answers"], 0)
    assert after.status == "active" and after.level is None
    assert twilio_fake.messages == []  # nobody paged for a picture nobody can see

    [kept] = media_rows(svc)
    with svc.factory() as session:
        inbound = session.get(Message, kept.message_id)
    assert inbound is not None and (inbound.direction, inbound.body) == ("in", "")
    assert (kept.conversation_id, kept.content_type, kept.position) == (after.id, "image/png", 0)
    assert kept.url.startswith(twilio_fake.base_url + f"/2010-04-01/Accounts/{twilio_fake.account_sid}/Messages/MM")

    assert "emergency department now" in twilio.sms("yes").text  # the answer the photo did not give
    [page] = twilio_fake.messages
    assert page["to"] == NURSE_AVERY and "bladder" in page["body"].lower()
    assert twilio_fake.media_fetches == []  # the service never fetched the photo by itself
    assert twilio_fake.violations == []


def test_a_photo_in_spanish_is_answered_in_spanish(svc: Services, twilio: Twilio, twilio_fake: TwilioFake) -> None:
    play(twilio, "hola, me duele la espalda")
    reply = mms(twilio, twilio_fake)
    assert PHOTO_ES in reply.text and "911" in reply.text
    assert conversation(svc).node == "q_faint"


def test_a_first_text_that_is_only_a_photo_starts_nothing(svc: Services, twilio: Twilio,
                                                          twilio_fake: TwilioFake) -> None:
    reply = mms(twilio, twilio_fake)
    assert PHOTO_EN in reply.text
    assert conversation(svc).node is None  # the questions begin with words
    assert "fainted" in twilio.sms("hello").text


def test_a_photo_with_words_is_read_as_the_words_and_kept(svc: Services, twilio: Twilio,
                                                          twilio_fake: TwilioFake) -> None:
    play(twilio, "hello")
    reply = mms(twilio, twilio_fake, "my legs went numb", (png(), "image/png"), (b"%PDF-1.4", "application/pdf"))
    assert "emergency department now" in reply.text and PHOTO_EN not in reply.text
    assert [(m.position, m.content_type) for m in media_rows(svc)] == [(0, "image/png"), (1, "application/pdf")]
    assert len(twilio_fake.messages) == 1  # the page


def test_a_photo_at_a_confirming_question_asks_it_again(svc: Services, twilio: Twilio,
                                                        twilio_fake: TwilioFake) -> None:
    asked = play(twilio, "hello", "no", "no", "my bottom feels weird")[-1]
    assert "Do you mean" in asked.text
    reply = mms(twilio, twilio_fake)
    assert PHOTO_EN in reply.text and "Do you mean" in reply.text
    assert conversation(svc).state["confirm"] == "flag:saddle_numbness"
    assert "emergency department now" in twilio.sms("yes").text


def test_the_nurse_on_the_case_is_told_a_photo_came(svc: Services, twilio: Twilio, twilio_fake: TwilioFake) -> None:
    play(twilio, "hello", "no", "yes")  # paged
    mms(twilio, twilio_fake)
    forward = twilio_fake.messages[-1]
    assert forward["to"] == NURSE_AVERY and "a photo or file: see the case on the dashboard" in forward["body"]
    assert twilio_fake.base_url not in forward["body"]  # the link itself never leaves the server


def test_the_engine_decides_a_photo_answers_nothing_at_any_point() -> None:
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    at_question = State(node="q_bladder", answers={"q_faint": "no"}, privacy_notice_sent=True)
    result = step(flow, at_question, "", media=1)
    assert result.state == at_question and result.actions == []
    assert [m.key for m in result.messages] == ["media_only", "q_bladder"]
    assert step(flow, at_question, "   ", media=0).messages[0].key == "unclear"  # no photo: a blank text
    held = State(status="done", outcome="out_u_crisis", held=True)
    crisis = step(flow, held, "", media=1)
    assert [type(a).__name__ for a in crisis.actions] == ["ForwardToNurse"]
    assert crisis.actions[0].quote == MEDIA_QUOTE  # type: ignore[union-attr]
    assert step(flow, at_question, "", media=1, opted_out=True).messages == []  # no texts after STOP


# --- the dashboard ---------------------------------------------------------------------------------------


@pytest.fixture
def nurse(app: Flask) -> FlaskClient:
    assert create_user(app, "avery", "nurse", "Nurse Avery").exit_code == 0
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    return client


def case_id(svc: Services) -> int:
    with svc.factory() as session:
        return session.scalars(select(Escalation.id)).one()


def test_the_nurse_sees_the_photo_on_the_case_page_through_the_dashboard(
        app: Flask, svc: Services, twilio: Twilio, twilio_fake: TwilioFake, nurse: FlaskClient) -> None:
    play(twilio, "hello", "no")
    picture = png()
    mms(twilio, twilio_fake)
    twilio.sms("yes")
    [kept] = media_rows(svc)

    page = nurse.get(f"/dashboard/cases/{case_id(svc)}").get_data(as_text=True)
    assert f'<img class="media-thumb" src="/dashboard/media/{kept.id}"' in page
    assert twilio_fake.base_url not in page and "api.twilio.com" not in page  # the browser never sees the link

    shown = nurse.get(f"/dashboard/media/{kept.id}")
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.get_data() == picture
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["Cache-Control"] == "no-store" and shown.headers["X-Content-Type-Options"] == "nosniff"
    # Fetched with the account's credentials, through Twilio's redirect to its CDN.
    assert [(f["via"], f["authorized"], f["status"]) for f in twilio_fake.media_fetches] == [
        ("api", True, 307), ("cdn", False, 200)]
    with svc.factory() as session:
        viewed = session.scalars(select(AuditLog).where(AuditLog.action == "view_media")).one()
    assert viewed.username == "avery" and viewed.patient_id == kept.patient_id


def test_the_media_route_is_behind_the_sign_in(app: Flask, svc: Services, twilio: Twilio,
                                              twilio_fake: TwilioFake) -> None:
    mms(twilio, twilio_fake)
    [kept] = media_rows(svc)
    anonymous = app.test_client().get(f"/dashboard/media/{kept.id}")
    assert anonymous.status_code == 302 and "/dashboard/login" in anonymous.headers["Location"]
    assert twilio_fake.media_fetches == []
    # Without the credentials, Twilio's own answer (the fake holds the account to HTTP auth on media).
    import requests

    assert requests.get(kept.url, timeout=5, allow_redirects=False).status_code == 401


def test_a_file_that_is_not_a_picture_is_only_a_download(svc: Services, twilio: Twilio, twilio_fake: TwilioFake,
                                                         nurse: FlaskClient) -> None:
    mms(twilio, twilio_fake, "", (b"<script>alert(1)</script>", "text/html"))
    [kept] = media_rows(svc)
    page = nurse.get("/dashboard/").get_data(as_text=True)
    assert "media" not in page  # not on the queue; only a case page shows it
    got = nurse.get(f"/dashboard/media/{kept.id}")
    assert got.status_code == 200 and got.mimetype == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment")


def test_a_link_outside_the_account_is_never_fetched(svc: Services, twilio: Twilio, twilio_fake: TwilioFake,
                                                     nurse: FlaskClient) -> None:
    mms(twilio, twilio_fake)
    [kept] = media_rows(svc)
    elsewhere = kept.url.replace(twilio_fake.account_sid, "AC" + "1" * 32)
    with svc.factory.begin() as session:
        session.get(MessageMedia, kept.id).url = elsewhere  # type: ignore[union-attr]
    refused = nurse.get(f"/dashboard/media/{kept.id}")
    assert refused.status_code == 502 and "could not be fetched" in refused.get_data(as_text=True)
    assert twilio_fake.media_fetches == []


def test_media_gone_at_twilio_is_said_plainly(svc: Services, twilio: Twilio, twilio_fake: TwilioFake,
                                             nurse: FlaskClient) -> None:
    mms(twilio, twilio_fake)
    [kept] = media_rows(svc)
    gone = kept.url.rsplit("/", 1)[0] + "/ME" + "0" * 32  # deleted at Twilio (DeleteMedia)
    with svc.factory.begin() as session:
        session.get(MessageMedia, kept.id).url = gone  # type: ignore[union-attr]
    assert nurse.get(f"/dashboard/media/{kept.id}").status_code == 502
    assert [f["status"] for f in twilio_fake.media_fetches] == [404]
    assert nurse.get("/dashboard/media/999999").status_code == 404
