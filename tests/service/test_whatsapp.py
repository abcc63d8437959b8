"""WhatsApp as a channel of its own, through signed webhooks and the Twilio fake (which checks every REST call
against Twilio's OpenAPI description, whatsapp: addresses and ContentSid/ContentVariables included).

The clock starts Monday 2026-03-02 15:00 UTC = 10:00 in New York; PATIENT is a 212 (New York) number.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service import create_app
from service.engine.lint import check_emergency_advice
from service.engine.loader import load_flow
from service.engine.yamlfile import FileProblems
from service.models import Checkin, Conversation, Escalation, EscalationEvent, Message, Patient
from service.services import Services
from service.settings import ROOT, Settings
from tests.conftest import ALL_CLEAR, CLINIC_NUMBER, NURSE_AVERY, PATIENT, FakeClock, Twilio, TwimlReply, parse_twiml
from tests.service.test_checkins import run_clock
from tests.service.test_escalation_lifecycle import EMERGENCY, pages_to, texts_to
from tests.service.test_sms_statements import ANSWERING, statements

WHATSAPP_FROM = "+14155238886"  # the clinic's WhatsApp sender
LINE = f"whatsapp:{WHATSAPP_FROM}"
WA_PATIENT = f"whatsapp:{PATIENT}"  # the same person as PATIENT, writing on WhatsApp
EN_SID, ES_SID = "HX" + "a1" * 16, "HX" + "b2" * 16
TEMPLATES = f"""
ci_how_are_you:
  content_sid: {{en: {EN_SID}, es: {ES_SID}}}
  variables: {{"1": clinic_name}}
"""


@pytest.fixture
def templates_yaml() -> str:
    return TEMPLATES


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, templates_yaml: str) -> Settings:
    """WhatsApp on, with the templates above (a test parametrizes `templates_yaml` for others, or none)."""
    path = ""
    if templates_yaml:
        (tmp_path / "whatsapp_templates.yaml").write_text(templates_yaml)
        path = str(tmp_path / "whatsapp_templates.yaml")
    return replace(settings, twilio_whatsapp_from=WHATSAPP_FROM, whatsapp_templates_file=path)


def wa(twilio: Twilio, body: str) -> TwimlReply:
    """A WhatsApp message as Twilio posts it to the same /twilio/sms webhook."""
    reply = twilio.sms(body, frm=WA_PATIENT, To=LINE, WaId=PATIENT.lstrip("+"), ProfileName="Sam")
    assert reply.status == 200, reply.raw
    return reply


def to_patient(fake: Any) -> list[dict[str, Any]]:
    """Every REST message to the patient, on either channel."""
    return [m for m in fake.messages if m["to"] in (PATIENT, WA_PATIENT)]


def rows(svc: Services, model: Any) -> list[Any]:
    with svc.factory() as session:
        return list(session.scalars(select(model).order_by(model.id)))


def events(svc: Services) -> list[tuple[str, str]]:
    return [(e.event, e.detail) for e in rows(svc, EscalationEvent)]


def home_care_on_whatsapp(twilio: Twilio, first: str = "hi, my back went into spasm") -> None:
    for body in (first, *ALL_CLEAR):
        wa(twilio, body)


# --- the channel is kept --------------------------------------------------------------------------------


def test_a_whatsapp_conversation_is_answered_on_whatsapp_every_time(twilio: Twilio, twilio_fake, svc: Services,
                                                                   clock: FakeClock) -> None:
    first = wa(twilio, EMERGENCY)
    assert "911" in first.text  # the TwiML answer: Twilio sends it back on the channel the webhook came from
    [page] = pages_to(twilio_fake, NURSE_AVERY)
    assert "(WhatsApp)" in page  # the nurse knows where the patient is
    assert twilio.sms("ACK 1", frm=NURSE_AVERY).text.startswith("Case 1 is yours.")
    twilio.sms("MSG 1 This is Avery, I am calling you in 5 minutes", frm=NURSE_AVERY)
    clock.advance(minutes=1)
    wa(twilio, "ok, I am at home")

    sent = to_patient(twilio_fake)
    assert [(m["to"], m["from_"], m["channel"]) for m in sent] == [(WA_PATIENT, LINE, "whatsapp")] * 2
    assert "a nurse has your case" in sent[0]["body"]  # the ACK notice
    assert sent[1]["body"] == "Nurse Avery (Test Spine Clinic): This is Avery, I am calling you in 5 minutes"
    nurse_texts = [m for m in twilio_fake.messages if m["to"] == NURSE_AVERY]
    assert [(m["from_"], m["channel"]) for m in nurse_texts] == [(CLINIC_NUMBER, "sms")] * 2  # page, forward
    assert '"ok, I am at home"' in nurse_texts[1]["body"]
    assert twilio_fake.violations == []

    [patient] = rows(svc, Patient)  # one patient: the WhatsApp sender is their phone number
    assert (patient.phone, patient.messaging_channel, patient.whatsapp_last_at) == (PATIENT, "whatsapp", clock.now)
    assert [c.channel for c in rows(svc, Conversation)] == ["whatsapp"]
    mine = [m for m in rows(svc, Message) if (m.direction == "in" and m.from_phone is None) or m.to_phone == PATIENT]
    assert {(m.direction, m.status, m.channel) for m in mine} == {
        ("in", "received", "whatsapp"), ("out", "twiml", "whatsapp"), ("out", "sent", "whatsapp")}


def test_the_channel_is_the_one_the_patient_last_wrote_on(twilio: Twilio, twilio_fake, svc: Services,
                                                         clock: FakeClock) -> None:
    wa(twilio, EMERGENCY)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    clock.advance(minutes=2)
    twilio.sms("my phone is back, texting you from it")  # SMS now, from the same number
    twilio.sms("MSG 1 Good, calling now", frm=NURSE_AVERY)
    sent = to_patient(twilio_fake)
    assert [(m["to"], m["from_"]) for m in sent] == [(WA_PATIENT, LINE), (PATIENT, CLINIC_NUMBER)]
    [patient] = rows(svc, Patient)
    assert patient.messaging_channel == "sms"
    assert patient.whatsapp_last_at == clock.now - timedelta(minutes=2)  # the last WhatsApp message, still
    assert [c.channel for c in rows(svc, Conversation)] == ["sms"]  # switched mid-conversation


def test_a_whatsapp_answer_costs_one_statement_more_than_an_sms(twilio: Twilio, svc: Services) -> None:
    wa(twilio, "hi, my back is in spasm")
    with statements(svc) as seen:
        assert wa(twilio, "no").texts  # the next question
    verbs = [s.split(None, 1)[0].upper() for s in seen]
    assert verbs == [*[verb for verb, _ in ANSWERING[:2]], "UPDATE", *[verb for verb, _ in ANSWERING[2:]]], \
        "\n".join(seen)
    assert seen[2].startswith("UPDATE patients")  # the patient's channel and their last WhatsApp message


# --- the 24-hour window and templates ----------------------------------------------------------------------


@pytest.mark.parametrize(("first", "sid"), [("hi, my back went into spasm", EN_SID),
                                            ("hola, me duele mucho la espalda", ES_SID)])
def test_a_check_in_after_24_hours_goes_as_the_approved_template(twilio: Twilio, twilio_fake, svc: Services,
                                                                clock: FakeClock, first: str, sid: str) -> None:
    home_care_on_whatsapp(twilio, first)
    last_message = clock.now
    run_clock(svc, clock, last_message + timedelta(hours=24))
    [checkin] = to_patient(twilio_fake)
    assert (checkin["to"], checkin["from_"], checkin["channel"]) == (WA_PATIENT, LINE, "whatsapp")
    assert (checkin["content_sid"], checkin["content_variables"], checkin["body"]) == (
        sid, {"1": "Test Spine Clinic"}, None)  # no free text outside the window
    assert "Body" not in checkin["form"] and twilio_fake.violations == []
    [row] = [m for m in rows(svc, Message) if m.kind == "checkin"]
    assert (row.status, row.channel, row.content_sid, row.key) == ("sent", "whatsapp", sid, "ci_how_are_you")
    assert rows(svc, Checkin)[0].status == "sent"
    # The patient answers on WhatsApp: the window is open again, and the answer comes back as TwiML.
    assert wa(twilio, "better").texts
    assert rows(svc, Patient)[0].whatsapp_last_at == clock.now


def test_inside_the_window_a_text_goes_as_free_text(twilio: Twilio, twilio_fake, svc: Services,
                                                   clock: FakeClock) -> None:
    home_care_on_whatsapp(twilio)
    clock.advance(hours=23)
    wa(twilio, "thanks")  # writes again a day later: the 24 hours start again
    run_clock(svc, clock, clock.now + timedelta(hours=1))
    [checkin] = to_patient(twilio_fake)
    assert checkin["to"] == WA_PATIENT and ": checking in." in checkin["body"] and checkin["content_sid"] is None


@pytest.mark.parametrize("templates_yaml", [""])  # no WHATSAPP_TEMPLATES_FILE
def test_without_a_template_the_check_in_is_not_sent_and_the_clinic_is_told(twilio: Twilio, twilio_fake,
                                                                           svc: Services, clock: FakeClock) -> None:
    home_care_on_whatsapp(twilio)
    run_clock(svc, clock, clock.now + timedelta(hours=24))
    assert to_patient(twilio_fake) == []  # nothing to the patient on any channel
    [row] = [m for m in rows(svc, Message) if m.kind == "checkin"]
    assert (row.status, row.channel, row.twilio_sid) == ("failed", "whatsapp", None)
    assert row.last_error == ("outside WhatsApp's 24-hour window (the patient last wrote on WhatsApp 24 hours ago) "
                              "and no template for 'ci_how_are_you' in WHATSAPP_TEMPLATES_FILE (code 63016)")
    assert rows(svc, Checkin)[0].status == "undeliverable"  # not asked again an hour later
    # Nobody owned this patient: a case in the clinic's queue says so (nobody is woken for it).
    [case] = rows(svc, Escalation)
    assert (case.disposition, case.status, case.reason, case.nurse_phone) == (
        "clinic_queue", "open", "could not reach the patient on WhatsApp", None)
    assert [name for name, _ in events(svc)] == ["opened", "not_reached_on_whatsapp"]
    assert events(svc)[1][1].startswith("the check-in (ci_how_are_you) not sent: outside WhatsApp's 24-hour")
    assert [m for m in twilio_fake.messages if m["to"] != WA_PATIENT] == []  # no page for it
    assert twilio_fake.violations == []


@pytest.mark.parametrize("templates_yaml", [""])
def test_a_nurse_message_after_24_hours_is_not_sent_and_the_nurse_is_told(twilio: Twilio, twilio_fake,
                                                                         svc: Services, clock: FakeClock) -> None:
    wa(twilio, EMERGENCY)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    clock.advance(hours=25)
    twilio.sms("MSG 1 How are you feeling today?", frm=NURSE_AVERY)
    assert len(to_patient(twilio_fake)) == 1  # the ACK notice, a day ago; the message did not go
    told = [t for t in texts_to(twilio_fake, NURSE_AVERY) if "could not reach" in t]
    assert told == ["Case 1: could not reach the patient on WhatsApp: the nurse's message (relay) was not sent "
                    "(outside WhatsApp's 24-hour window (the patient last wrote on WhatsApp 25 hours ago) and no "
                    "template for 'relay' in WHATSAPP_TEMPLATES_FILE). Please call them: +1 212-555-0123."]
    assert "not_reached_on_whatsapp" in [name for name, _ in events(svc)]
    [relay] = [m for m in rows(svc, Message) if m.kind == "relay"]
    assert (relay.status, relay.channel) == ("failed", "whatsapp")


def test_twilio_refusing_free_text_outside_the_window_tells_the_nurse(twilio: Twilio, twilio_fake, svc: Services,
                                                                      clock: FakeClock) -> None:
    wa(twilio, EMERGENCY)
    twilio.sms("ACK 1", frm=NURSE_AVERY)
    twilio_fake.error_next(code=63016, status=400, operation="CreateMessage")  # Twilio counts the window too
    twilio.sms("MSG 1 calling you now", frm=NURSE_AVERY)
    told = [t for t in texts_to(twilio_fake, NURSE_AVERY) if "could not reach" in t]
    assert len(told) == 1 and "Twilio refused it: outside WhatsApp's 24-hour window (error 63016)" in told[0]


# --- WhatsApp off -----------------------------------------------------------------------------------------


def test_while_whatsapp_is_off_a_whatsapp_sender_gets_one_answer_and_is_not_triaged(
        settings: Settings, twilio_fake, clock: FakeClock) -> None:
    app = create_app(replace(settings, twilio_whatsapp_from=""), clock=clock)
    svc: Services = app.extensions["triage"]
    try:
        twilio = Twilio(app.test_client())
        for _ in range(2):  # every message gets the same one answer: someone in trouble always sees 911
            reply = wa(twilio, EMERGENCY)
            [text] = reply.texts
            assert "does not answer on WhatsApp yet" in text and "aún no atiende por WhatsApp" in text
            assert text.count("+12125550100") == 2 and text.count("911") == 2  # the clinic's number, both languages
        for model in (Patient, Conversation, Message, Escalation):
            assert rows(svc, model) == []  # not triaged, nothing kept
        assert twilio_fake.messages == []  # nobody paged
        assert "911" in twilio.sms(EMERGENCY).text and len(pages_to(twilio_fake, NURSE_AVERY)) == 1  # SMS as ever
    finally:
        svc.shutdown()
        svc.engine.dispose()


def test_the_answer_while_off_must_name_911_in_every_language() -> None:
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    assert list(check_emergency_advice(flow)) == []
    quiet = {**flow.messages.whatsapp_off, "es": "Perdón, aún no atendemos por WhatsApp. Llame a la clínica."}
    messages = flow.messages.model_copy(update={"whatsapp_off": quiet})
    [problem] = check_emergency_advice(flow.model_copy(update={"messages": messages}))
    assert problem.path == ("messages", "whatsapp_off") and "'es'" in problem.reason


# --- the outage spool ------------------------------------------------------------------------------------


def kept_by_the_fallback(twilio: Twilio, body: str) -> TwimlReply:
    """Twilio's fallback URL took this WhatsApp message (the database was down): answered from memory, kept."""
    reply = parse_twiml(twilio.signed_post("/twilio/fallback/sms", {
        "From": WA_PATIENT, "To": LINE, "Body": body, "MessageSid": "SM" + "e" * 32, "AccountSid": "AC" + "0" * 32,
        "ErrorCode": "11200"}))
    assert reply.status == 200 and "911" in reply.text
    return reply


def test_a_whatsapp_message_kept_in_an_outage_is_answered_on_whatsapp_when_replayed(
        app: Flask, twilio: Twilio, twilio_fake, svc: Services) -> None:  # type: ignore[no-untyped-def]
    kept_by_the_fallback(twilio, EMERGENCY)
    assert app.test_cli_runner().invoke(args=["spool", "replay"]).exit_code == 0
    sent = to_patient(twilio_fake)
    assert sent and {(m["to"], m["from_"]) for m in sent} == {(WA_PATIENT, LINE)}  # the late replies, on WhatsApp
    assert len(pages_to(twilio_fake, NURSE_AVERY)) == 1
    assert rows(svc, Patient)[0].messaging_channel == "whatsapp"


def test_while_whatsapp_is_off_a_kept_whatsapp_message_is_not_triaged_on_replay(
        settings: Settings, twilio_fake, clock: FakeClock) -> None:
    app = create_app(replace(settings, twilio_whatsapp_from=""), clock=clock)
    svc: Services = app.extensions["triage"]
    try:
        kept_by_the_fallback(Twilio(app.test_client()), EMERGENCY)
        result = app.test_cli_runner().invoke(args=["spool", "replay"])
        assert result.exit_code == 0, result.output
        assert rows(svc, Patient) == [] and twilio_fake.messages == []
    finally:
        svc.shutdown()
        svc.engine.dispose()


# --- configuration ----------------------------------------------------------------------------------------


def test_whatsapp_check_lists_the_templates(app, svc: Services) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["whatsapp", "check"])
    assert result.exit_code == 0, result.output
    assert f"WhatsApp: on, sender whatsapp:{WHATSAPP_FROM}" in result.output
    assert f"ci_how_are_you: en {EN_SID}, es {ES_SID}" in result.output


@pytest.mark.parametrize("templates_yaml", [f"ci_how_are_yuo:\n  content_sid: {{en: {EN_SID}}}\n"])
def test_whatsapp_check_names_a_key_no_text_has(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["whatsapp", "check"])
    assert result.exit_code == 1
    assert "ci_how_are_yuo: no text of flow 'back_spasm' has this key" in result.output


def test_a_bad_templates_file_stops_the_start_with_its_line(settings: Settings, tmp_path: Path,
                                                            clock: FakeClock) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("ci_how_are_you:\n  content_sid: {en: HX123}\n  variables: {'1': patient_name}\n")
    with pytest.raises(FileProblems) as raised:
        create_app(replace(settings, whatsapp_templates_file=str(bad)), clock=clock)
    problems = raised.value.problems
    assert len(problems) == 2
    assert problems[0].startswith(f"{bad}:2: ci_how_are_you.content_sid.en: String should match pattern")
    assert problems[1].startswith(f"{bad}:3: ci_how_are_you.variables.1: Input should be 'clinic_name'")


def test_the_example_templates_file_names_texts_the_flow_sends(app) -> None:  # type: ignore[no-untyped-def]
    example = str(Path(__file__).resolve().parents[2] / "whatsapp_templates.example.yaml")
    result = app.test_cli_runner().invoke(args=["whatsapp", "check", example])
    assert result.exit_code == 0, result.output
    assert "checkin_reminder: en HX00000000000000000000000000000005 (no es: the en template goes)" in result.output
