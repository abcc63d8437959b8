"""Spanish on the phone, over signed voice webhooks: the language offer, then the same triage in Spanish.

Every call opens with a short bilingual offer ("Para español, oprima 2") in a Gather of its own, so the
2 that chooses Spanish never answers "No" to the first question. A Spanish call is read in a Spanish
voice (<Say language="es-US">) and listens for Spanish (<Gather language="es-US">); nurses still get
English pages that say the patient speaks Spanish and quote their words. TwiML is parsed with
xml.etree (tests/service/test_voice.py's Call driver).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from service.models import Checkin, Conversation, Message, Patient
from service.services import Services
from tests.conftest import NURSE_AVERY, PATIENT, FakeClock, Twilio, play
from tests.service.test_spanish import private, run_clock
from tests.service.test_voice import Call, VoiceReply, advice_text, conversation_of, nurse_texts, patient_texts

FAINT_ES = "¿Se ha desmayado"
BLADDER_ES = "se le ha salido la orina"
KEYS_ES = "Para Sí, oprima 1. Para No, oprima 2."
TEXT_OFFER_ES = "Para recibir estos consejos por mensaje de texto, oprima 1. Si no, oprima 2."
SPOKEN_NO_ES = ["no", "para nada", "nop", "claro que no", "no, nunca", "no", "no señor", "para nada", "no",
                "nop", "no", "no, nunca"]


def languages(reply: VoiceReply) -> set[str | None]:
    """The language of every <Say> and <Gather> in a reply."""
    return {element.get("language") for element in reply.root.iter() if element.tag in ("Say", "Gather")}


def at_of(reply: VoiceReply) -> str:
    return parse_qs(urlsplit(reply.one("Gather").get("action") or "").query)["at"][0]


def the_patient(svc: Services, phone: str = PATIENT) -> Patient:
    with svc.factory() as session:
        return session.scalars(select(Patient).where(Patient.phone == phone)).one()


def pages(fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [body for body in nurse_texts(fake, NURSE_AVERY) if "Reply ACK" in body]


def spanish_call(twilio: Twilio, frm: str = PATIENT) -> tuple[Call, VoiceReply]:
    call = Call(twilio, frm=frm)
    call.ring()
    return call, call.press("2")


# --- the offer ---------------------------------------------------------------------------------------------


def test_the_call_opens_with_the_bilingual_offer_in_a_gather_of_its_own(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    offer = call.ring()
    assert offer.verbs == ["Gather", "Redirect"] and at_of(offer) == "language"
    gather = offer.one("Gather")
    assert gather.get("timeout") == "4" and gather.get("numDigits") == "1"
    assert gather.get("language") == "es-US"  # listening for "español" from the caller it is offered to
    english, spanish = list(gather.iter("Say"))
    assert english.get("language") == "en-US" and "Test Spine Clinic nurse line" in (english.text or "")
    assert "call 911" in (english.text or "")
    assert spanish.get("language") == "es-US" and (spanish.text or "").startswith("Para español, oprima 2")
    assert offer.one("Redirect").text == gather.get("action")
    conversation = conversation_of(svc, call)
    assert (conversation.node, conversation.state["answers"]) == (None, {})  # no question asked yet


def test_pressing_2_at_the_offer_makes_the_whole_call_spanish(twilio: Twilio, svc: Services) -> None:
    call, first = spanish_call(twilio)
    assert languages(first) == {"es-US"}
    [said] = first.said
    assert said.startswith("Bienvenido a la línea de enfermería de Test Spine Clinic") and "911" in said
    assert "oprima 9 para oír la pregunta otra vez, o 0" in said
    assert FAINT_ES in said and said.endswith(KEYS_ES)
    assert "Sí" in (first.one("Gather").get("hints") or "")
    conversation = conversation_of(svc, call)
    # The 2 chose the language; it did not answer "No" to the first question.
    assert (conversation.node, conversation.state["answers"], conversation.state["language"]) == ("q_faint", {}, "es")
    assert the_patient(svc).language == "es"
    second = call.say("no")
    assert languages(second) == {"es-US"} and BLADDER_ES in second.text


@pytest.mark.parametrize("words", ["español", "Español.", "espanol", "en español", "Spanish"])
def test_saying_espanol_at_the_offer_makes_the_call_spanish(twilio: Twilio, svc: Services, words: str) -> None:
    call = Call(twilio)
    call.ring()
    first = call.say(words)
    assert languages(first) == {"es-US"} and FAINT_ES in first.text
    assert conversation_of(svc, call).state["answers"] == {}
    assert the_patient(svc).language == "es"


@pytest.mark.parametrize("answer", ["silence", "redirect", "1", "5", "English"])
def test_no_choice_or_english_at_the_offer_goes_on_in_english(twilio: Twilio, svc: Services, answer: str) -> None:
    call = Call(twilio)
    call.ring()
    if answer == "silence":
        first = call.silence()
    elif answer == "redirect":
        first = call.follow_redirect()  # Twilio's path when the Gather ends without calling its action
    elif answer.isdigit():
        first = call.press(answer)
    else:
        first = call.say(answer)
    assert languages(first) == {"en-US"}
    assert first.said[0].startswith("Welcome to the Test Spine Clinic nurse line") and "Have you fainted" in first.text
    conversation = conversation_of(svc, call)
    assert (conversation.node, conversation.state["answers"]) == ("q_faint", {})  # no key was taken as an answer
    assert the_patient(svc).language == "en"
    assert call.press("2").text.startswith("Since your back pain started")


def test_clear_spanish_words_at_the_offer_choose_spanish_and_mumbles_do_not(twilio: Twilio, svc: Services) -> None:
    call = Call(twilio)
    call.ring()
    first = call.say("hola, me duele mucho la espalda")  # their opening, read as a first text is
    assert languages(first) == {"es-US"} and FAINT_ES in first.text
    assert conversation_of(svc, call).state["answers"] == {}
    unsure = Call(twilio, frm="+12125550178")
    unsure.ring()
    assert languages(unsure.say("de la el en", confidence=0.2)) == {"en-US"}  # heard unsurely: not a choice
    assert the_patient(svc, "+12125550178").language == "en"


def test_a_caller_known_to_speak_spanish_hears_spanish_first_and_may_choose_english(twilio: Twilio,
                                                                                    svc: Services) -> None:
    play(twilio, "hola")  # an earlier text in Spanish: the patient speaks Spanish
    call = Call(twilio)
    offer = call.ring()
    spanish, english = list(offer.one("Gather").iter("Say"))
    assert spanish.get("language") == "es-US" and "Gracias por llamar" in (spanish.text or "")
    assert "911" in (spanish.text or "")
    assert english.get("language") == "en-US" and (english.text or "").startswith("For English, press 1")
    assert offer.one("Gather").get("language") == "en-US"
    assert languages(call.silence()) == {"es-US"}  # nothing chosen: Spanish, as we know them

    other = Call(twilio)
    other.ring()
    first = other.press("1")
    assert languages(first) == {"en-US"} and "Have you fainted" in first.text
    assert the_patient(svc).language == "en"


def test_9_repeats_the_offer_and_0_reaches_a_nurse_at_once(twilio: Twilio, twilio_fake, svc: Services) -> None:
    call = Call(twilio)
    call.ring()
    again = call.press("9")
    assert at_of(again) == "language" and "Para español, oprima 2" in again.text
    nurse = call.say("enfermera, por favor")
    assert nurse.has("Dial") and languages(nurse) == {"es-US"}
    assert "no cuelgue mientras le comunico" in nurse.text
    [page] = pages(twilio_fake)
    assert page.startswith("Callback case") and "Speaks Spanish." in page and "(voice call)" in page
    keyed = Call(twilio, frm="+12125550177")
    keyed.ring()
    zero = keyed.press("0")
    assert zero.has("Dial") and languages(zero) == {"en-US"} and "connect you to the on-call nurse" in zero.text


# --- red flags, spoken or keyed, in Spanish ---------------------------------------------------------------------


@pytest.mark.parametrize("words, quote, flag_label, level, advice", [
    ("no puedo controlar la vejiga", "no puedo controlar la vejiga", "loss of bladder or bowel control", "ed_now",
     "sala de emergencias"),
    ("tuve un accidente de carro", "accidente de carro", "car accident", "ed_now", "sala de emergencias"),
    ("se me durmieron las piernas", "se me durmieron las piernas", "leg weakness", "ed_now", "sala de emergencias"),
    ("me desmayé esta mañana", "desmaye", "fainting", "call_911_now", "Cuelgue ahora y llame al 911"),
])
def test_a_spanish_spoken_red_flag_pages_the_nurse_in_english_and_dials(twilio: Twilio, twilio_fake, svc: Services,
                                                                       words: str, quote: str, flag_label: str,
                                                                       level: str, advice: str) -> None:
    call, _ = spanish_call(twilio)
    call.say("no")
    reply = call.say(words)
    assert advice in reply.text and "911" in reply.text and "emergency" not in reply.text
    assert languages(reply) == {"es-US"}
    assert reply.verbs[-1] == "Dial" and reply.one("Dial").find("Number").text == NURSE_AVERY  # type: ignore[union-attr]
    [page] = pages(twilio_fake)
    assert page.startswith("URGENT case") and flag_label in page
    assert f'Patient said: "{quote}".' in page and "Speaks Spanish." in page and "(voice call)" in page
    conversation = conversation_of(svc, call)
    assert (conversation.level, conversation.disposition) == (level, "emergency")
    assert twilio_fake.violations == []


@pytest.mark.parametrize("yes", ["sí", "claro", "Sí señor", "claro que sí", "1"])
def test_a_spanish_yes_at_a_red_flag_question_escalates(twilio: Twilio, twilio_fake, svc: Services, yes: str) -> None:
    call, _ = spanish_call(twilio)
    call.say("para nada")
    reply = call.press(yes) if yes.isdigit() else call.say(yes)
    assert reply.has("Dial") and "sala de emergencias" in reply.text
    assert conversation_of(svc, call).state["red_flags"] == ["bladder_bowel"]
    [page] = pages(twilio_fake)
    assert "Speaks Spanish." in page


def test_a_red_flag_said_at_the_offer_is_not_lost(twilio: Twilio, twilio_fake, svc: Services) -> None:
    call = Call(twilio)
    call.ring()
    reply = call.say("tuve un accidente de carro")  # words, not a choice: read as a first text would be
    assert reply.has("Dial") and languages(reply) == {"es-US"} and "sala de emergencias" in reply.text
    assert conversation_of(svc, call).level == "ed_now"
    [page] = pages(twilio_fake)
    assert '"accidente de carro"' in page and "Speaks Spanish." in page


def test_in_spanish_9_repeats_and_0_reaches_the_nurse(twilio: Twilio, twilio_fake, svc: Services) -> None:
    call, first = spanish_call(twilio)
    for repeat in (lambda: call.press("9"), lambda: call.say("repite"), lambda: call.say("otra vez")):
        again = repeat()
        assert again.text.startswith(FAINT_ES) and again.text.endswith(KEYS_ES) and languages(again) == {"es-US"}
    assert conversation_of(svc, call).state["misses"] == 0
    nurse = call.press("0")
    assert nurse.has("Dial") and "no cuelgue mientras le comunico" in nurse.text and languages(nurse) == {"es-US"}
    unanswered = call.dial_ends("no-answer")
    assert unanswered.has("Record") and "deje un mensaje para la enfermera" in unanswered.text
    assert languages(unanswered) == {"es-US"}


def test_switching_language_mid_call_keeps_the_place(twilio: Twilio, svc: Services) -> None:
    call, _ = spanish_call(twilio)
    call.say("no")  # at the bladder question, in Spanish
    english = call.say("English")
    assert languages(english) == {"en-US"} and english.text.startswith("Since your back pain started")
    assert english.text.endswith("If Yes, press 1. If No, press 2.")
    conversation = conversation_of(svc, call)
    assert (conversation.node, conversation.state["answers"]) == ("q_bladder", {"q_faint": "no"})
    assert the_patient(svc).language == "en"
    back = call.say("español")
    assert languages(back) == {"es-US"} and BLADDER_ES in back.text
    assert "ingle" in call.press("2").text  # and the flow goes on from there, in Spanish
    assert conversation_of(svc, call).state["answers"] == {"q_faint": "no", "q_bladder": "no"}


# --- benign: Spanish home care read out, Spanish texts and check-ins ----------------------------------------------


def test_a_benign_spanish_call_gets_spanish_advice_by_voice_and_text_and_spanish_check_ins(
        twilio: Twilio, twilio_fake, svc: Services, clock: FakeClock) -> None:
    call, _ = spanish_call(twilio)
    for words in SPOKEN_NO_ES:
        outcome = call.say(words)
    assert languages(outcome) == {"es-US"}
    assert "20 minutos" in outcome.text and "911" in outcome.text and "sala de emergencias" in outcome.text
    assert outcome.text.endswith(TEXT_OFFER_ES)
    assert patient_texts(twilio_fake) == [] and pages(twilio_fake) == []
    bye = call.say("sí, por favor")
    assert "Le estamos enviando" in bye.text and bye.verbs[-1] == "Hangup" and languages(bye) == {"es-US"}
    advice = advice_text(twilio_fake)
    assert advice.startswith("Línea de enfermería de Test Spine Clinic: los consejos de su llamada")
    assert "20 minutos" in advice and "no están cifrados" in advice and "STOP" in advice
    assert "Ice" not in advice and "pillow" not in advice
    conversation = conversation_of(svc, call)
    assert (conversation.disposition, conversation.level) == ("self_care", "home_care")

    sent = len(patient_texts(twilio_fake))
    run_clock(svc, clock, hours=25)
    [checkin] = patient_texts(twilio_fake)[sent:]
    assert checkin.startswith("Test Spine Clinic: ") and "¿Cómo se siente hoy?" in checkin
    assert "Responda 1 Mejor, 2 Igual, 3 Peor." in checkin and "911" in checkin
    assert len(checkin) <= 160 and private(checkin)
    better = twilio.sms("mucho mejor")
    assert "Me alegra que se sienta mejor" in better.text
    assert twilio_fake.violations == []


def test_spanish_opt_out_after_a_call_stops_everything(twilio: Twilio, twilio_fake, svc: Services,
                                                       clock: FakeClock) -> None:
    call, _ = spanish_call(twilio)
    call.answer_all(["2"] * 12)
    call.press("1")  # the advice by text, and the check-ins
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending")) == 2
    stop = twilio.sms("PARAR")
    [confirmation] = stop.texts
    assert "no recibirá más mensajes" in confirmation and "911" in confirmation
    assert the_patient(svc).opted_out
    sent = len(patient_texts(twilio_fake))
    run_clock(svc, clock, hours=4 * 24, every=timedelta(minutes=30))
    assert patient_texts(twilio_fake)[sent:] == []
    with svc.factory() as session:
        assert session.scalar(select(func.count()).select_from(Checkin).where(Checkin.status == "pending")) == 0
    # A later call is still triaged (care is not texting), but offers no texts.
    later = Call(twilio)
    later.ring()
    later.press("2")
    outcome = later.answer_all(["2"] * 12)
    assert "20 minutos" in outcome.text and TEXT_OFFER_ES not in outcome.text
    with svc.factory() as session:
        assert session.scalars(select(Message).where(Message.kind == "advice", Message.conversation_id ==
                                                     conversation_of(svc, later).id)).all() == []


def test_no_key_at_the_offer_is_never_an_answer_even_when_the_caller_keeps_pressing(twilio: Twilio,
                                                                                      svc: Services) -> None:
    call = Call(twilio)
    call.ring()
    call.press("2")
    call.answer_all(["2"] * 12)
    with svc.factory() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.call_sid == call.sid)).one()
        answers = session.scalars(select(Message.body).where(Message.conversation_id == conversation.id,
                                                             Message.kind == "answer")).all()
        chosen = session.scalars(select(Message.body).where(Message.conversation_id == conversation.id,
                                                            Message.kind == "language")).all()
    assert len(conversation.state["answers"]) == 12 and len(answers) == 12 and chosen == ["pressed 2"]
    assert conversation.level == "home_care"


# --- the terminal ------------------------------------------------------------------------------------------------


def test_simulate_voice_lang_es_plays_a_spanish_call(app) -> None:  # type: ignore[no-untyped-def]
    lines = "\n".join(["", "no", "no puedo controlar la vejiga", "n", ""]) + "\n"  # no key at the offer: Spanish
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["simulate", "--voice", "--lang", "es"], input=lines)
    assert result.exit_code == 0, result.output
    assert "line says> For English, press 1" in result.output and FAINT_ES in result.output
    assert "sala de emergencias" in result.output and "Speaks Spanish." in result.output
    assert "disposition: emergency" in result.output
