"""Spanish-speaking patients, over signed SMS webhooks: the same triage, in Spanish, end to end.

Nurses still read English: pages say the patient speaks Spanish and quote their own words.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from service.clock import tick
from service.engine.answers import parse_answer
from service.engine.language import detect_language
from service.engine.lint import SYMPTOM_WORDS
from service.engine.loader import load_flow
from service.models import Checkin, Conversation, Escalation, Patient
from service.services import Services
from service.settings import ROOT
from tests.conftest import ALL_CLEAR, CLINIC_NUMBER, NURSE_AVERY, PATIENT, FakeClock, Twilio, play

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


def texts_to(fake, phone: str = PATIENT) -> list[str]:  # type: ignore[no-untyped-def]
    return [m["body"] for m in fake.messages if m["to"] == phone]


def pages(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [body for body in texts_to(fake, NURSE_AVERY) if "Reply ACK" in body]


def run_clock(svc: Services, clock: FakeClock, hours: float, every: timedelta = timedelta(minutes=10)) -> None:
    end = clock.now + timedelta(hours=hours)
    while clock.now < end:
        clock.advance(every)
        tick(svc)


def private(body: str) -> bool:
    """A follow-up names no symptom (the clinic's own name aside)."""
    return SYMPTOM_WORDS.search(body.replace("Test Spine Clinic", "")) is None


def the_patient(svc: Services) -> Patient:
    with svc.factory() as session:
        return session.scalars(select(Patient).where(Patient.phone == PATIENT)).one()


def the_conversation(svc: Services) -> Conversation:
    with svc.factory() as session:
        return session.scalars(select(Conversation).order_by(Conversation.id.desc())).first()


# --- red flags in everyday Spanish reach the nurse, in English ------------------------------------

def test_a_red_flag_in_everyday_spanish_pages_the_nurse_in_english_with_the_patients_words(
        twilio: Twilio, twilio_fake, svc: Services) -> None:
    first, second, last = play(twilio, "hola, me duele mucho la espalda", "no", "no puedo controlar la vejiga")
    assert "Línea de enfermería de Test Spine Clinic" in first.text and "no están cifrados" in first.text
    assert "¿Se ha desmayado" in first.text and "Responda SÍ o NO." in first.text and "911" in first.text
    assert "orina" in second.text
    assert "sala de emergencias" in last.text and "911" in last.text and "emergency" not in last.text
    [page] = pages(twilio_fake)
    assert page.startswith("URGENT case") and "loss of bladder or bowel control" in page
    assert 'Patient said: "no puedo controlar la vejiga".' in page and "Speaks Spanish." in page
    assert the_patient(svc).language == "es"
    assert (the_conversation(svc).level, the_conversation(svc).disposition) == ("ed_now", "emergency")
    assert twilio_fake.violations == []


@pytest.mark.parametrize("words, flag_label, advice", [
    ("me desmayé esta mañana", "fainting", "Llame al 911 ahora"),
    ("me hice pipí", "bladder", "sala de emergencias"),
    ("se me durmieron las piernas", "leg weakness", "sala de emergencias"),
    ("no siento la zona genital", "numbness in the groin", "sala de emergencias"),
    ("tengo fiebre", "fever", "sala de emergencias"),
    ("tuve un accidente de carro", "car accident", "sala de emergencias"),
])
def test_spanish_red_flag_words_at_any_step_escalate_at_once(twilio: Twilio, twilio_fake, svc: Services, words: str,
                                                              flag_label: str, advice: str) -> None:
    replies = play(twilio, "hola", "no", words)
    assert advice in replies[-1].text
    [page] = pages(twilio_fake)
    assert flag_label in page and "Speaks Spanish." in page and "Patient said:" in page
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1


@pytest.mark.parametrize("words", ["no tengo fiebre", "puedo orinar bien", "no me caí", "no tengo entumecimiento",
                                   "nunca me he desmayado", "no he perdido el control de la vejiga"])
def test_spanish_negations_do_not_escalate(twilio: Twilio, twilio_fake, words: str) -> None:
    play(twilio, "hola", words)
    assert pages(twilio_fake) == []


# --- benign: Spanish home care and Spanish check-ins ------------------------------------------------

def test_a_benign_case_gets_spanish_home_care_then_spanish_check_ins(twilio: Twilio, twilio_fake, svc: Services,
                                                                      clock: FakeClock) -> None:
    replies = play(twilio, "hola", *ALL_CLEAR)
    final = replies[-1].text
    assert "20 minutos" in final and "almohada debajo de las rodillas" in final and "911" in final
    assert "Le vamos a escribir en 24 y en 72 horas" in final and "Ice" not in final
    assert pages(twilio_fake) == []
    sent_before = len(texts_to(twilio_fake))
    run_clock(svc, clock, hours=25)
    [checkin] = texts_to(twilio_fake)[sent_before:]
    assert checkin.startswith("Test Spine Clinic: ") and "¿Cómo se siente hoy?" in checkin
    assert "Responda 1 Mejor, 2 Igual, 3 Peor." in checkin and "911" in checkin
    assert len(checkin) <= 160 and private(checkin)
    run_clock(svc, clock, hours=24)  # no answer: one reminder (next morning: one text a day), in Spanish
    [reminder] = texts_to(twilio_fake)[sent_before + 1:]
    assert "le escribimos otra vez" in reminder and "Responda 1 Mejor, 2 Igual, 3 Peor." in reminder
    assert len(reminder) <= 160 and private(reminder)
    better = twilio.sms("mucho mejor")
    assert "Me alegra que se sienta mejor" in better.text and "posture" not in better.text
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending")) == 0
    assert twilio_fake.violations == []


def test_a_spanish_check_in_answered_worse_runs_the_screen_again_in_spanish(twilio: Twilio, twilio_fake,
                                                                            svc: Services, clock: FakeClock) -> None:
    play(twilio, "hola", *ALL_CLEAR)
    run_clock(svc, clock, hours=25)
    again = twilio.sms("peor")
    assert "¿Se ha desmayado" in again.text
    assert "sala de emergencias" in play(twilio, "no", "sí")[-1].text
    [page] = pages(twilio_fake)
    assert "Speaks Spanish." in page


# --- the language follows the patient -------------------------------------------------------------

def test_switching_language_mid_conversation_keeps_the_place(twilio: Twilio, svc: Services) -> None:
    play(twilio, "hi", "no", "no")  # at the groin-numbness question, in English
    switched = twilio.sms("ESPAÑOL")
    assert "ingle" in switched.text and "groin" not in switched.text
    conversation = the_conversation(svc)
    assert conversation.node == "q_saddle"
    assert conversation.state["answers"] == {"q_faint": "no", "q_bladder": "no"}
    assert the_patient(svc).language == "es"
    assert "piernas" in twilio.sms("no").text
    back = twilio.sms("INGLÉS")
    assert "legs" in back.text and "piernas" not in back.text
    assert (the_conversation(svc).node, the_patient(svc).language) == ("q_legs", "en")


def test_the_language_is_remembered_for_the_next_conversation(twilio: Twilio, svc: Services,
                                                              clock: FakeClock) -> None:
    play(twilio, "hola", *ALL_CLEAR)
    clock.advance(days=10)  # the conversation has expired: the next text starts a new one
    again = twilio.sms("hi")
    assert "¿Se ha desmayado" in again.text
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Conversation)) == 2


def test_an_english_first_text_stays_english(twilio: Twilio, svc: Services) -> None:
    reply = twilio.sms("hola, I have really bad back pain")
    assert "nurse line" in reply.text and "Línea" not in reply.text
    assert the_patient(svc).language == "en"


# --- keywords in Spanish --------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["PARAR", "BAJA", "CANCELAR"])
def test_spanish_opt_out_stops_everything(twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock,
                                          word: str) -> None:
    play(twilio, "hola", *ALL_CLEAR)  # home care: two check-ins scheduled
    stop = twilio.sms(word)
    [confirmation] = stop.texts
    assert "Línea de enfermería de Test Spine Clinic" in confirmation and "no recibirá más mensajes" in confirmation
    assert "911" in confirmation
    assert the_patient(svc).opted_out
    sent_before = len(texts_to(twilio_fake))
    run_clock(svc, clock, hours=4 * 24, every=timedelta(minutes=30))
    later = twilio.sms("hola")
    assert texts_to(twilio_fake)[sent_before:] == [] and later.texts == []
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending")) == 0
    back = twilio.sms("COMENZAR")
    assert "suscripción está activa otra vez" in back.text and not the_patient(svc).opted_out


def test_ayuda_answers_in_spanish_with_the_carrier_required_words(twilio: Twilio) -> None:
    play(twilio, "hola", "no")
    reply = twilio.sms("AYUDA")
    assert "Línea de enfermería de Test Spine Clinic" in reply.text and "Pueden aplicarse tarifas de mensajes y datos" \
        in reply.text
    assert "PARAR" in reply.text and "911" in reply.text and "orina" in reply.text  # and the question again


# --- nurses: English for them, Spanish for the patient ----------------------------------------------

def test_nurse_ack_and_relay_reach_a_spanish_patient_in_spanish(twilio: Twilio, twilio_fake, svc: Services,
                                                                clock: FakeClock) -> None:
    play(twilio, "hola", "me hice pipí")
    with svc.factory() as session:
        case_id = session.scalars(select(Escalation.id)).one()
    ack = twilio.sms(f"ACK {case_id}", frm=NURSE_AVERY)
    assert ack.status == 200
    assert any("una enfermera tiene su caso" in body for body in texts_to(twilio_fake))
    twilio.sms(f"MSG {case_id} Hola, soy Avery. Le llamo en 5 minutos.", frm=NURSE_AVERY)
    relay = [m for m in twilio_fake.messages if m["to"] == PATIENT and m["body"].startswith("Nurse Avery")]
    assert relay and relay[0]["from_"] == CLINIC_NUMBER
    assert relay[0]["body"] == "Nurse Avery (Test Spine Clinic): Hola, soy Avery. Le llamo en 5 minutos."
    clock.advance(minutes=1)
    answer = twilio.sms("gracias, aquí espero")
    assert "Le pasamos su mensaje a la enfermera" in answer.text and "911" in answer.text
    forwards = [body for body in texts_to(twilio_fake, NURSE_AVERY) if "patient wrote" in body]
    assert forwards and '"gracias, aquí espero"' in forwards[-1]
    assert twilio_fake.violations == []


def test_the_dashboard_says_the_patient_speaks_spanish_and_quotes_their_words(app, twilio: Twilio,  # type: ignore[no-untyped-def]
                                                                              svc: Services) -> None:
    from tests.service.test_dashboard import create_user, login

    play(twilio, "hola", "no", "no puedo controlar la vejiga")
    create_user(app, "avery", name="Nurse Avery")
    client = app.test_client()
    assert login(client, "avery").status_code == 302
    queue = client.get("/dashboard/queue/rows").get_data(as_text=True)
    assert "speaks Spanish" in queue and "loss of bladder or bowel control" in queue
    with svc.factory() as session:
        case_id = session.scalars(select(Escalation.id)).one()
    case = client.get(f"/dashboard/cases/{case_id}").get_data(as_text=True)
    assert "<dd>Spanish</dd>" in case and "<q>no puedo controlar la vejiga</q>" in case


# --- the one answer parser, in Spanish ------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("sí", "yes"), ("si", "yes"), ("Sí señor", "yes"), ("claro", "yes"), ("claro que sí", "yes"), ("uno", "yes"),
    ("no", "no"), ("nop", "no"), ("para nada", "no"), ("claro que no", "no"), ("dos", "no"), ("no, nunca", "no"),
    ("tal vez", None), ("no sé", None), ("morado", None),
])
def test_spanish_yes_no_answers(text: str, expected: str | None) -> None:
    assert parse_answer(FLOW.nodes["q_fever"], text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("text, expected", [
    ("mejor", "better"), ("bien", "better"), ("un poco mejor", "better"), ("igual", "same"),
    ("más o menos", "same"), ("peor", "worse"), ("mal", "worse"), ("no muy bien", "worse"), ("tres", "worse"),
    ("mejor o peor", None),
])
def test_spanish_check_in_answers(text: str, expected: str | None) -> None:
    assert parse_answer(FLOW.nodes["ci_how_are_you"], text) == expected  # type: ignore[arg-type]


def test_every_red_flag_has_a_spanish_case_and_a_spanish_negated_twin() -> None:
    from service.flowtools.case_files import load_case_file

    cases = load_case_file(ROOT / "tests" / "conversations" / "spanish.yaml").cases
    covered = {flag for case in cases for flag in case.expect.red_flags or []}
    twins = {case.twin_of for case in cases if case.twin_of}
    assert sorted(set(FLOW.red_flags) - covered) == [] and sorted(set(FLOW.red_flags) - twins) == []


# --- choosing the language from the first text ------------------------------------------------------

@pytest.mark.parametrize("text", ["hola", "Hola!", "ayuda", "AYUDA", "me duele la espalda", "tengo fiebre",
                                  "me hice pipí", "se me durmieron las piernas", "Buenos días, tengo dolor de espalda",
                                  "PARAR", "tuve un accidente de carro", "gracias"])
def test_clearly_spanish_first_texts(text: str) -> None:
    assert detect_language(text) == "es"


@pytest.mark.parametrize("text", ["no", "si", "sí", "ok", "1", "hi", "hello", "Maria", "STOP", "help",
                                  "hola, my back hurts", "I fell at la playa", "my back hurts since yesterday",
                                  "no tengo", ""])
def test_texts_that_do_not_say_spanish(text: str) -> None:
    assert detect_language(text) is None


# --- the simulator ------------------------------------------------------------------------------------

def test_simulate_lang_es_plays_the_spanish_flow(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():  # `flask` pushes one for every command; the test runner only for AppGroup commands
        result = app.test_cli_runner().invoke(args=["simulate", "--lang", "es"], input="hi\nno\nsí\n")
    assert result.exit_code == 0, result.output
    assert "¿Se ha desmayado" in result.output and "orina" in result.output
    assert "sala de emergencias" in result.output and "disposition: emergency" in result.output
