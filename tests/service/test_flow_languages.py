"""A flow's languages: back_spasm.yaml (English, `languages: [en, es]`) plus back_spasm.es.yaml (Spanish,
keyed by the same ids). Every rule of `flows check` for languages rejects the file it exists for, naming
the language file and line; the flow store treats the language file as part of its flow.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from service import create_app
from service.engine.flow import Question
from service.engine.lint import _texts
from service.engine.loader import (
    FlowError,
    bundle,
    content_version,
    flow_files,
    load_flow,
    parse_stored,
    unbundle,
    unbundle_all,
)
from service.flowstore import FlowStore
from service.models import Conversation, FlowVersion
from service.settings import ROOT
from tests.conftest import Twilio, play
from tests.service.test_flow_changes import copy_flows, edit

MAIN = ROOT / "flows" / "back_spasm.yaml"
SPANISH = ROOT / "flows" / "back_spasm.es.yaml"


def line_of(path: Path, *anchors: str) -> int:
    """1-based line of the last anchor, each searched for after the previous one."""
    lines = path.read_text().splitlines()
    index = 0
    for anchor in anchors:
        index = next(i for i in range(index, len(lines)) if anchor in lines[i])
    return index + 1


def problems_after(tmp_path: Path, old: str, new: str, file: str = "back_spasm.es.yaml") -> tuple[Path, list[str]]:
    flows = copy_flows(tmp_path)
    edit(flows / file, old, new)
    with pytest.raises(FlowError) as raised:
        load_flow(flows / "back_spasm.yaml")
    return flows / file, raised.value.problems


def expect(found: list[str], wanted: str) -> None:
    assert wanted in found, "\n".join([f"wanted: {wanted}", "got:", *found])


# --- the served flow ----------------------------------------------------------------------------------

def test_every_patient_facing_text_has_spanish_with_the_same_placeholders_and_options() -> None:
    loaded = load_flow(MAIN)
    flow = loaded.flow
    assert flow.languages == ["en", "es"] and loaded.language_files == (str(SPANISH),)
    for path, text in _texts(flow):
        assert text.get("es", "").strip(), path
    for node_id, node in flow.nodes.items():
        if isinstance(node, Question):
            assert all(choice.label.get("es") for choice in node.choices), node_id
    for flag_id, flag in flow.red_flags.items():
        assert flag.phrases.get("es"), f"red flag {flag_id} has no Spanish phrases"
    assert flow.reviewed_by == {"en": None, "es": None}  # nobody has signed the Spanish off: we do not pretend


def test_the_content_version_covers_the_language_file() -> None:
    loaded = load_flow(MAIN)
    main, languages = unbundle(loaded.source)
    assert main.rstrip("\n") == MAIN.read_text().rstrip("\n") and languages == {SPANISH.name: SPANISH.read_text()}
    shared = {p.name: p.read_text() for p in sorted((MAIN.parent / "shared").glob("universal*.yaml"))}
    assert unbundle_all(loaded.source)[2] == shared  # the included emergency signs are part of the version
    assert loaded.version == content_version(bundle(MAIN.read_text(), {SPANISH.name: SPANISH.read_text()}, shared))
    assert loaded.version != content_version(MAIN.read_text())


def test_a_stored_version_keeps_the_shared_emergency_signs_it_was_served_with(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    served = load_flow(flows / "back_spasm.yaml")
    edit(flows / "shared" / "universal.yaml", 'urgent_opening: "If this is an emergency, call 911 now."',
         'urgent_opening: "VERSION B: call 911 now."')
    now = load_flow(flows / "back_spasm.yaml")
    assert now.version != served.version and now.flow.messages.urgent_opening["en"] == "VERSION B: call 911 now."
    again = parse_stored(served.source, "back_spasm.yaml")
    assert again.version == served.version and again.flow == served.flow


def test_a_stored_version_loads_as_it_was_served_not_as_the_files_are_now(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    served = load_flow(flows / "back_spasm.yaml")
    edit(flows / "back_spasm.es.yaml", 'unclear: "Perdón, no entendí su respuesta."', 'unclear: "VERSIÓN B"')
    again = parse_stored(served.source, "back_spasm.yaml")
    assert again.version == served.version and again.flow == served.flow
    assert load_flow(flows / "back_spasm.yaml").flow.messages.unclear["es"] == "VERSIÓN B"


# --- flows check: each language rule names the language file and line -----------------------------

def test_a_missing_translation_fails_naming_the_language_file_and_line(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, '    text: "¿Tiene fiebre, escalofríos, náuseas o vómitos junto con el dolor '
                                         'de espalda?"\n', "")
    expect(found, f"{es}:{line_of(es, '  q_fever:')}: node 'q_fever' (text): no 'es' text")


def test_a_missing_message_translation_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, '  noted: "Gracias, lo anotamos para la enfermera."\n', "")
    expect(found, f"{es}:{line_of(es, 'messages:')}: messages.noted: no 'es' text")


def test_a_missing_voice_wording_translation_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, '    channels:\n      voice: "¿Tiene 60 años o más, y el dolor fuerte empezó '
                                         'de repente? Diga sí solo si las dos cosas son ciertas."\n', "")
    expect(found, f"{es}:{line_of(es, '  q_sudden_over_60:')}: node 'q_sudden_over_60' (channels.voice): "
                  "no 'es' text")


def test_a_question_with_fewer_options_in_spanish_fails(tmp_path: Path) -> None:
    no_option = ('      "no":\n        label: "No"\n        aliases: [todavia no, aun no, nadie, nadie me ha llamado, '
                 'no me han llamado, no me ha llamado]\n')
    es, found = problems_after(tmp_path, no_option, "")
    expect(found, f"{es}:{line_of(es, '  ci_nurse_reached:', 'choices:')}: node 'ci_nurse_reached' (choices): "
                  "1 options in 'es' but 2 in 'en'")


def test_a_question_with_more_options_in_spanish_fails(tmp_path: Path) -> None:
    fever = 'con el dolor de espalda?"\n    hint: "Responda SÍ o NO."\n    choices: {"yes": "Sí", "no": "No"'
    es, found = problems_after(tmp_path, fever + "}", fever + ', "maybe": "Tal vez"}')
    expect(found, f"{es}:{line_of(es, '  q_fever:', 'choices:')}: node 'q_fever' (choices.maybe): option 'maybe' is "
                  "not an option in the main file (yes, no): a question has the same options in every language")


def test_a_missing_placeholder_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, "clínica al {clinic_phone}. En una emergencia llame al 911.\n  after_outcome",
                               "clínica. En una emergencia llame al 911.\n  after_outcome")
    expect(found, f"{es}:{line_of(es, 'offer_nurse:')}: messages.offer_nurse: 'es' placeholders [] differ from "
                  "['clinic_phone']")


def test_an_unknown_placeholder_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, 'sms_choices: "Responda {options}."', 'sms_choices: "Responda {opciones}."')
    expect(found, f"{es}:{line_of(es, 'sms_choices:')}: messages.sms_choices: unknown placeholder ['opciones'] "
                  "in 'es'")


def test_a_spanish_outcome_without_911_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, 'la enfermera. En una emergencia llame al 911."', 'la enfermera."')
    expect(found, f"{es}:{line_of(es, '  out_ci_nurse_reached:', 'text:')}: node 'out_ci_nurse_reached' (text): "
                  "'es' text does not say to call 911 in an emergency")


def test_a_bad_spanish_phrase_pattern_fails(tmp_path: Path) -> None:
    es, found = problems_after(tmp_path, '      - "(osteoporosis|osteopenia|', '      - "((osteoporosis|osteopenia|')
    assert any(p.startswith(f"{es}:{line_of(es, '((osteoporosis')}: red flag 'minor_fall_fragile' (phrases.es.0): "
                            "bad phrase pattern") for p in found), found


@pytest.mark.parametrize("old, new, anchor, wanted", [
    ("  q_faint:\n    text:", "  q_desmayo:\n    text:", "  q_desmayo:",
     "node 'q_desmayo': node 'q_desmayo' is not in the main file"),
    ("  noted:", "  anotado:", "  anotado:", "messages.anotado: message 'anotado' is not in the main file"),
    ("  fever:\n    phrases:", "  fiebre:\n    phrases:", "  fiebre:",
     "red flag 'fiebre': red flag 'fiebre' is not in the main file"),
    ("  out_ci_nurse_reached:\n", "  out_ci_nurse_reached:\n    level: seen_today\n", "    level: seen_today",
     "node 'out_ci_nurse_reached' (level): 'level' is not translated here (only text, hint, channels, choices)"),
    ("  welcome:\n    text:", "  welcome:\n    hint: Hola\n    text:", "    hint: Hola",
     "node 'welcome' (hint): the main file has no hint here to translate"),
])
def test_the_language_file_only_translates_what_the_main_file_has(tmp_path: Path, old: str, new: str, anchor: str,
                                                                   wanted: str) -> None:
    es, found = problems_after(tmp_path, old, new)
    expect(found, f"{es}:{line_of(es, anchor)}: {wanted}")


def test_a_text_given_in_both_files_fails(tmp_path: Path) -> None:
    main, found = problems_after(tmp_path, '  unclear: "Sorry, I didn\'t understand that."',
                                 '  unclear: {en: "Sorry, I didn\'t understand that.", es: "Perdón."}',
                                 file="back_spasm.yaml")
    es = main.with_name("back_spasm.es.yaml")
    expect(found, f"{es}:{line_of(es, '  unclear:')}: messages.unclear: the 'es' text is also given in the main file; "
                  "keep one")


def test_a_missing_language_file_is_named(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    (flows / "back_spasm.es.yaml").unlink()
    with pytest.raises(FlowError) as raised:
        load_flow(flows / "back_spasm.yaml")
    main = flows / "back_spasm.yaml"
    expect(raised.value.problems, f"{main}:{line_of(main, 'languages:')}: languages: 'es' texts go in "
                                  "back_spasm.es.yaml beside this file, and it was not found")


def test_a_language_file_that_is_not_yaml_is_named(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    (flows / "back_spasm.es.yaml").write_text("messages: [unclosed\n")
    with pytest.raises(FlowError) as raised:
        load_flow(flows / "back_spasm.yaml")
    assert any(p.startswith(f"{flows / 'back_spasm.es.yaml'}:") and "not valid YAML" in p
               for p in raised.value.problems), raised.value.problems


# --- the command ---------------------------------------------------------------------------------------

def test_flows_check_passes_and_warns_that_spanish_is_not_reviewed(app) -> None:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["flows", "check"])
    assert result.exit_code == 0, result.output
    assert "back_spasm.yaml: ok" in result.output and "back_spasm.es.yaml: ok" not in result.output
    assert "warning: no clinician has reviewed the 'es' text (reviewed_by.es)" in result.output


def test_flows_check_of_a_broken_language_file_fails_with_its_problems(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flows = copy_flows(tmp_path)
    es = flows / "back_spasm.es.yaml"
    edit(es, '  noted: "Gracias, lo anotamos para la enfermera."\n', "")
    for target in (flows / "back_spasm.yaml", es):  # naming the language file checks its flow
        result = app.test_cli_runner().invoke(args=["flows", "check", str(target)])
        assert result.exit_code == 1
        assert f"{es}:{line_of(es, 'messages:')}: messages.noted: no 'es' text" in result.output


# --- the flow store ------------------------------------------------------------------------------------

def test_language_files_are_not_flows_of_their_own(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    assert [p.name for p in flow_files(flows)] == ["back_spasm.yaml"]
    store = FlowStore(flows)
    assert [loaded.flow.id for loaded in store.all_current()] == ["back_spasm"]


def test_editing_the_language_file_reloads_its_flow_and_a_broken_edit_is_not_served(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    store = FlowStore(flows)
    first = store.current()
    edit(flows / "back_spasm.es.yaml", 'unclear: "Perdón, no entendí su respuesta."', 'unclear: "Perdón, ¿cómo?"')
    second = store.current()
    assert second.version != first.version and second.flow.messages.unclear["es"] == "Perdón, ¿cómo?"
    edit(flows / "back_spasm.es.yaml", '  noted: "Gracias, lo anotamos para la enfermera."\n', "")
    assert store.current().version == second.version  # the last good version stays



def test_the_store_notices_a_shared_file_edit_and_a_save_by_rename_and_reads_a_broken_edit_once(
        tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    # The store stats its folders and files on each use instead of globbing them (a file saved by
    # rename changes its folder's time, not the old file's).
    flows = copy_flows(tmp_path)
    store = FlowStore(flows)
    first = store.current()
    shared = flows / "shared" / "universal.yaml"
    shared.write_text(shared.read_text() + "\n# an edit\n")
    second = store.current()
    assert second.version != first.version
    main = flows / "back_spasm.yaml"
    renamed = flows / "back_spasm.yaml.tmp"
    renamed.write_text(main.read_text().replace('text: "Is your message about back pain?"',
                                                'text: "Is your text about back pain?"'))
    renamed.replace(main)
    third = store.current()
    assert third.version != second.version and "Is your text about back pain?" in third.source
    caplog.set_level("ERROR", logger="service.flowstore")
    main.write_text(main.read_text().replace("type: question", "type: questoin", 1))
    assert [store.current().version for _ in range(5)] == [third.version] * 5
    assert sum("flows.reload_rejected" in r.getMessage() for r in caplog.records) == 1

def test_a_spanish_conversation_finishes_on_the_version_it_started_on(settings, clock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    flows = copy_flows(tmp_path)
    app = create_app(replace(settings, flows_dir=str(flows)), clock=clock)
    twilio = Twilio(app.test_client())
    play(twilio, "hola", "no")  # at q_bladder on version A
    edit(flows / "back_spasm.es.yaml", "¿Siente dormida o sin sensación, desde hace poco,",
         "VERSIÓN B: ¿Siente dormida o sin sensación, desde hace poco,")
    a_reply = twilio.sms("no")
    assert "¿Siente dormida" in a_reply.text and "VERSIÓN B" not in a_reply.text
    b_reply = play(twilio, "hola", "no", "no", frm="+12125550177")[-1]
    assert "VERSIÓN B" in b_reply.text
    svc = app.extensions["triage"]
    with svc.factory() as session:
        versions = set(session.scalars(select(Conversation.flow_version)))
        stored = {row.version: row.source for row in session.scalars(select(FlowVersion))}
    assert len(versions) == 2 and versions == set(stored)
    assert all("#@ language file: back_spasm.es.yaml" in source for source in stored.values())
    svc.shutdown()
    svc.engine.dispose()
