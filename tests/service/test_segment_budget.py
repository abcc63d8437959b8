"""The segment budget (flows check, service/engine/sms_budget.py): every text a patient can get by SMS, in
every language, placeholders at their longest, fits `segment_budget.per_text` segments (default 3); a
text past it fails with its file, line and reason. And what is sent keeps to it: replies are packed into
texts of at most that many segments (split_for_sms), over the signed webhook too."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from service.channels.twilio_http import split_for_sms
from service.engine.loader import FlowError, load_flow, parse_flow
from service.engine.segments import count
from service.engine.sms_budget import longest_path, over_budget, sms_texts
from service.settings import ROOT
from tests.conftest import ALL_CLEAR, Twilio, play
from tests.service.test_lint import FILE, MINIMAL, _check, broken, line_of

SPANISH_FILE = "broken.es.yaml"
MINIMAL_ES = """\
messages:
  help: "Línea de enfermería de {clinic_name}. En una emergencia llame al 911. Pueden aplicarse tarifas."
  stop: "{clinic_name}: no recibirá más mensajes. En una emergencia llame al 911."
  start: "{clinic_name}: suscripción activa otra vez."
  unclear: "Perdón, no entendí."
  noted: "Lo anotamos para la enfermera."
  offer_nurse: "Responda ENFERMERA. En una emergencia llame al 911."
  after_outcome: "Responda REINICIAR. En una emergencia llame al 911."
  open_emergency: "Le pasamos su mensaje a la enfermera. Si está peor, llame al 911 ahora."
  silence_reminder: "{clinic_name}: por favor conteste la última pregunta."
  privacy: "Los mensajes no están cifrados. En una emergencia llame al 911."
  checkin_reminder: "{clinic_name}: le escribimos otra vez. {options}"
  case_acknowledged: "Una enfermera tiene su caso. Si se siente mucho peor, llame al 911."
  relay: "{nurse} ({clinic_name}): {text}"
  no_nurse_reached: "Todavía no hay enfermera. Llame al 911 si está peor."
  sms_yes_no: "Responda SÍ o NO."
  sms_choices: "Responda {options}."
  voice_option: "Para {label}, oprima {key}."
  voice_controls: "Oprima 9 para oír la pregunta otra vez, o 0 para una enfermera."
nodes:
  welcome:
    text: "{clinic_name}: unas preguntas. En una emergencia llame al 911."
  q_faint:
    text: "¿Se ha desmayado?"
    choices: {"yes": "Sí", "no": "No"}
  q_legs:
    text: "¿Tiene las piernas débiles?"
    choices: {"yes": "Sí", "no": "No"}
  out_911:
    text: "Llame al 911 ahora."
  out_ed:
    text: "Vaya a la sala de emergencias ahora, o llame al 911."
  out_today:
    text: "Una enfermera le llamará hoy. Si está peor, llame al 911."
  out_unclear:
    text: "Una enfermera le llamará hoy. Si está peor, llame al 911."
  out_nurse:
    text: "Una enfermera le llamará hoy. Si está peor, llame al 911."
  out_home:
    text: "Descanse y use calor. Si está peor, llame al 911."
  ci:
    text: "{clinic_name}: le escribimos. ¿Cómo está hoy?"
    choices: {better: Mejor, worse: Peor}
  out_ci_better:
    text: "Qué bueno. En una emergencia llame al 911."
"""
BILINGUAL = MINIMAL.replace("languages: [en]", "languages: [en, es]")
# The Spanish home-care advice as one text: 4 segments of UCS-2 (the á, é, í of Spanish are not in GSM-7).
LONG_ES = ("Descanse unos días, pero no más de uno o dos en cama. Póngase hielo o una compresa fría 20 minutos a "
           "la vez, varias veces al día; el calor también ayuda. Pregunte a su médico antes de tomar medicinas. "
           "Si está peor, llame al 911.")
# The same advice in English: GSM-7, 2 segments, well within the budget.
LONG_EN = ("Rest for a few days, but no more than a day or two in bed. Put ice or a cold pack on it for 20 minutes "
           "at a time, several times a day; heat can help too. Check with your clinician before taking medicine. "
           "If worse, call 911.")


def spanish(*edits: tuple[str, str]) -> str:
    source = MINIMAL_ES
    for old, new in edits:
        assert source.count(old) == 1, f"edit target not unique: {old!r}"
        source = source.replace(old, new)
    return source


def problems(main: str, es: str) -> list[str]:
    with pytest.raises(FlowError) as raised:
        parse_flow(main, FILE, {SPANISH_FILE: es})
    return raised.value.problems


def test_the_long_texts_are_what_they_say() -> None:
    assert (count(LONG_ES).encoding, count(LONG_ES).segments) == ("UCS-2", 4)
    assert (count(LONG_EN).encoding, count(LONG_EN).segments) == ("GSM-7", 2)


def test_a_bilingual_flow_within_the_budget_passes() -> None:
    loaded = parse_flow(BILINGUAL, FILE, {SPANISH_FILE: MINIMAL_ES})
    assert loaded.flow.languages == ["en", "es"] and list(over_budget(loaded.flow)) == []


def test_a_spanish_text_past_the_budget_fails_with_the_spanish_file_and_line() -> None:
    main = broken(("languages: [en]", "languages: [en, es]"),
                  ('text: "Rest and use heat. If worse, call 911."', f'text: "{LONG_EN}"'))
    es = spanish(('text: "Descanse y use calor. Si está peor, llame al 911."', f'text: "{LONG_ES}"'))
    found = problems(main, es)
    line = line_of(es, "  out_home:", "text:")
    wanted = (f"{SPANISH_FILE}:{line}: node 'out_home' (text): 'es' text is {len(LONG_ES)} characters of UCS-2 "
              f"('í' is not in GSM-7): 4 SMS segments of 67, over the budget of 3 (segment_budget.per_text); "
              f"shorten it, or send it as several texts (info nodes in sequence)")
    assert wanted in found, "\n".join([f"wanted: {wanted}", "got:", *found])
    assert len(found) == 1, found  # the English text, as long in words, is GSM-7 and fits


def test_the_budget_is_the_flows_own() -> None:
    es = spanish(('text: "Descanse y use calor. Si está peor, llame al 911."', f'text: "{LONG_ES}"'))
    looser = BILINGUAL.replace("expiry: 24h", "expiry: 24h\nsegment_budget: {per_text: 4}")
    assert list(over_budget(parse_flow(looser, FILE, {SPANISH_FILE: es}).flow)) == []
    stricter = MINIMAL.replace("expiry: 24h", "expiry: 24h\nsegment_budget: {per_text: 1}").replace(
        'text: "Rest and use heat. If worse, call 911."', f'text: "{LONG_EN}"')
    with pytest.raises(FlowError) as raised:
        parse_flow(stricter, FILE)
    line = line_of(stricter, "  out_home:", "text:")
    assert any(p.startswith(f"{FILE}:{line}: node 'out_home' (text): 'en' text is {len(LONG_EN)} characters of "
                            f"GSM-7: 2 SMS segments of 153, over the budget of 1") for p in raised.value.problems)


def test_placeholders_are_counted_at_their_longest() -> None:
    # {clinic_name} and 280 characters: 2 segments with a name of 12 characters, 3 with one of 30 (the default).
    text = "{clinic_name}: " + "a" * 270 + " Call 911."
    main = MINIMAL.replace('text: "Rest and use heat. If worse, call 911."', f'text: "{text}"').replace(
        "expiry: 24h", "expiry: 24h\nsegment_budget: {per_text: 2}")
    with pytest.raises(FlowError) as raised:
        parse_flow(main, FILE)
    line = line_of(main, "  out_home:", "text:")
    assert raised.value.problems == [
        f"{FILE}:{line}: node 'out_home' (text): 'en' text is 312 characters of GSM-7: 3 SMS segments of 153, over "
        "the budget of 2 (segment_budget.per_text); shorten it, or send it as several texts (info nodes in sequence)"]
    short_names = main.replace("per_text: 2}", "per_text: 2, longest: {clinic_name: 12}}")
    assert list(over_budget(parse_flow(short_names, FILE).flow)) == []


def test_a_clinic_name_with_an_accent_makes_the_texts_that_name_it_ucs2() -> None:
    loaded = parse_flow(MINIMAL.replace("expiry: 24h", "expiry: 24h\nsegment_budget: {longest: {unicode: true}}"), FILE)
    welcome = next(t for t in sms_texts(loaded.flow, "en") if t.name == "welcome")
    plain = next(t for t in sms_texts(loaded.flow, "en") if t.name == "out_911")
    assert welcome.size.encoding == "UCS-2" and plain.size.encoding == "GSM-7"


def test_a_question_is_counted_as_re_asked_after_just_to_be_sure() -> None:
    # 297 characters with "Reply YES or NO.": two segments as first asked, three after "Just to be sure:".
    question = "Have you fainted" + "?" * 264
    main = MINIMAL.replace('text: "Have you fainted?"', f'text: "{question}"').replace(
        "expiry: 24h", "expiry: 24h\nsegment_budget: {per_text: 2}")
    with pytest.raises(FlowError) as raised:
        parse_flow(main, FILE)
    line = line_of(main, "  q_faint:", "text:")
    assert raised.value.problems == [
        f"{FILE}:{line}: node 'q_faint' (text): 'en' text, re-asked after 'Just to be sure:', is 314 characters "
        "of GSM-7: 3 SMS segments of 153, over the budget of 2 (segment_budget.per_text); shorten it, or send it "
        "as several texts (info nodes in sequence)"]


def test_flows_check_fails_a_spanish_text_past_the_budget(app: Flask, tmp_path: Path) -> None:
    main = tmp_path / "broken.yaml"
    main.write_text(BILINGUAL)
    es = tmp_path / SPANISH_FILE
    source = spanish(('text: "Descanse y use calor. Si está peor, llame al 911."', f'text: "{LONG_ES}"'))
    es.write_text(source)
    result, output = _check(app, main)
    assert result.exit_code == 1
    line = line_of(source, "  out_home:", "text:")
    assert f"{es}:{line}: node 'out_home' (text): 'es' text is {len(LONG_ES)} characters of UCS-2" in output
    assert "4 SMS segments of 67, over the budget of 3" in output and ": ok (" not in output


# --- the shipped flows -----------------------------------------------------------------------------------

SHIPPED = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


@pytest.mark.parametrize("lang", SHIPPED.languages)
def test_every_shipped_text_fits_the_budget(lang: str) -> None:
    budget = SHIPPED.segment_budget.per_text
    assert budget == 3
    too_long = [(t.name, t.variant, t.size) for t in sms_texts(SHIPPED, lang) if t.size.segments > budget]
    assert too_long == []
    assert list(over_budget(SHIPPED)) == []


def test_the_longest_conversation_is_counted_in_each_language() -> None:
    english, spanish_path = longest_path(SHIPPED, "en"), longest_path(SHIPPED, "es")
    # The full screen, all no, then home care: the first text's reply to the home-care advice.
    for path in (english, spanish_path):
        assert path.nodes[0] == "welcome" and path.nodes[-1] == "out_home_care" and "q_lasting" in path.nodes
        assert path.segments <= path.texts * SHIPPED.segment_budget.per_text
    assert spanish_path.segments > english.segments  # UCS-2: 67 characters a segment, not 153


def test_the_spanish_home_care_reply_goes_as_short_texts_in_order(twilio: Twilio) -> None:
    # Was one text of 1 028 characters in 16 segments; now several, each within the budget, in order.
    replies = play(twilio, "hola", *ALL_CLEAR)
    final = replies[-1]
    assert len(final.texts) >= 3 and all(count(text).segments <= 3 for text in final.texts), final.texts
    joined = final.text
    order = [joined.index(phrase) for phrase in ("Buenas noticias", "20 minutos", "almohada debajo de las rodillas",
                                                 "Le vamos a escribir")]
    assert order == sorted(order) and "911" in final.texts[-1]
    for reply in replies:
        assert all(count(text).segments <= 3 for text in reply.texts), reply.texts


def test_split_for_sms_keeps_each_text_within_the_budget() -> None:
    bodies = ["a" * 150, "b" * 150, "c" * 150, "á" * 100]
    assert split_for_sms(bodies) == ["a" * 150 + "\n\n" + "b" * 150 + "\n\n" + "c" * 150, "á" * 100]
    assert split_for_sms(bodies, 1) == bodies
    assert split_for_sms(["x" * 2000], 3) == ["x" * 1600, "x" * 400]  # past Twilio's 1 600: cut there


def test_flows_report_prints_the_segment_table(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["flows", "report", str(ROOT / "flows" / "back_spasm.yaml")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "## SMS segments (budget: 3 a text, segment_budget.per_text)" in out and "| text | en | es |" in out
    assert "| care_heat_ice | 2 (GSM-7, 278) | 3 (UCS-2, " in out
    assert "Longest conversation (en): " in out and "Longest conversation (es): " in out
