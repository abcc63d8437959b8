"""The flow lint: every rule rejects the broken flow it exists for, naming file, line, node and reason.

Each test starts from MINIMAL (a small flow that passes every rule), breaks one thing by editing
the YAML text, and expects one `file:line: where: reason` line among the problems. Line numbers
are found here by searching the text, independently of the loader's own line map.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from service.engine.loader import FlowError, parse_flow
from service.settings import ROOT

FILE = "broken.yaml"

MINIMAL = """\
id: mini
title: Mini flow
languages: [en]
include: [universal]
start: welcome
expiry: 24h
unclear_outcome: out_unclear
nurse_outcome: out_nurse
level_outcomes:
  call_911_now: out_911
  ed_now: out_ed
  seen_today: out_today
messages:
  help: "{clinic_name} nurse line. Call 911 in an emergency. Msg & data rates may apply."
  stop: "{clinic_name}: no more texts. In an emergency call 911."
  start: "{clinic_name}: subscribed again."
  unclear: "Sorry, I didn't understand that."
  noted: "Noted for the nurse."
  offer_nurse: "Reply NURSE for a nurse. In an emergency call 911."
  after_outcome: "Reply RESTART to start again. In an emergency call 911."
  open_emergency: "Passed to the nurse. If you are worse, call 911 now."
  silence_reminder: "{clinic_name}: please reply to the last question."
  privacy: "Texts are not encrypted. For an emergency call 911."
  checkin_reminder: "{clinic_name}: checking in again. {options}"
  case_acknowledged: "A nurse has your case. If you feel much worse, call 911."
  relay: "{nurse} ({clinic_name}): {text}"
  no_nurse_reached: "No nurse yet. Call 911 or go to the ER if worse."
  sms_yes_no: "Reply YES or NO."
  sms_choices: "Reply {options}."
  voice_option: "If {label}, press {key}."
  voice_controls: "Press 9 to hear the question again, or 0 for a nurse."
red_flags:
  faint:
    label: fainting
    level: call_911_now
    source: "references.md, aortic aneurysm row"
    phrases: ["fainted"]
  legs:
    label: new leg weakness
    level: ed_now
    source: "Seed page: new weakness in the legs"
    phrases: ["legs? (are|is) weak"]
nodes:
  welcome:
    type: info
    text: "{clinic_name}: a few questions. In an emergency call 911."
    next: q_faint
  q_faint:
    type: question
    screening: true
    text: "Have you fainted?"
    choices:
      - {id: "yes", label: "Yes", red_flag: faint, next: out_911}
      - {id: "no", label: "No", next: q_legs}
  q_legs:
    type: question
    screening: true
    text: "Are your legs weak?"
    choices:
      - {id: "yes", label: "Yes", red_flag: legs, next: out_ed}
      - {id: "no", label: "No", next: out_home}
  out_911:
    type: outcome
    level: call_911_now
    text: "Call 911 now."
  out_ed:
    type: outcome
    level: ed_now
    text: "Go to the emergency department now, or call 911."
  out_today:
    type: outcome
    level: seen_today
    text: "A nurse will call you today. If worse, call 911."
  out_unclear:
    type: outcome
    level: seen_today
    text: "A nurse will call you today. If worse, call 911."
  out_nurse:
    type: outcome
    level: seen_today
    text: "A nurse will call you today. If worse, call 911."
  out_home:
    type: outcome
    level: home_care
    text: "Rest and use heat. If worse, call 911."
    checkins:
      - {after: 24h, ask: ci}
  ci:
    type: question
    text: "{clinic_name}: checking in. How are you today?"
    choices:
      - {id: better, label: Better, next: out_ci_better}
      - {id: worse, label: Worse, next: q_faint}
  out_ci_better:
    type: outcome
    level: home_care
    text: "Glad to hear it. In an emergency call 911."
"""


def broken(*edits: tuple[str, str]) -> str:
    source = MINIMAL
    for old, new in edits:
        assert source.count(old) == 1, f"edit target not unique: {old!r}"
        source = source.replace(old, new)
    return source


def problems(source: str) -> list[str]:
    with pytest.raises(FlowError) as raised:
        parse_flow(source, FILE)
    assert raised.value.path == FILE
    return raised.value.problems


def line_of(source: str, *anchors: str) -> int:
    """1-based line of the last anchor, each searched for after the previous one."""
    lines = source.splitlines()
    index = 0
    for anchor in anchors:
        index = next(i for i in range(index, len(lines)) if anchor in lines[i])
    return index + 1


def expect(source: str, line_anchors: tuple[str, ...], where_reason: str) -> list[str]:
    found = problems(source)
    wanted = f"{FILE}:{line_of(source, *line_anchors)}: {where_reason}"
    assert wanted in found, "\n".join([f"wanted: {wanted}", "got:", *found])
    return found


def expect_detail(source: str, anchor: str, where_reason: str, detail: str) -> None:
    """A problem at the anchor's line that starts `where: reason` and names re's own detail."""
    found = problems(source)
    prefix = f"{FILE}:{line_of(source, anchor)}: {where_reason}"
    assert any(p.startswith(prefix) and detail in p for p in found), found


def test_minimal_flow_passes_every_rule() -> None:
    loaded = parse_flow(MINIMAL, FILE)
    assert loaded.flow.id == "mini" and len(loaded.version) == 16


def test_the_served_flow_passes_every_rule() -> None:
    served = ROOT / "flows" / "back_spasm.yaml"  # its language files are found beside it
    assert parse_flow(served.read_text(), str(served)).flow.red_flags


# --- check_targets ----------------------------------------------------------------------------------

def test_missing_target() -> None:
    source = broken(('{id: "no", label: "No", next: out_home}', '{id: "no", label: "No", next: out_nowhere}'))
    expect(source, ("  q_legs:", '{id: "no"'),
           "node 'q_legs' (choices.1.next): goes to node 'out_nowhere', which does not exist")


def test_missing_start() -> None:
    source = broken(("start: welcome", "start: hello"))
    expect(source, ("start: hello",), "start: goes to node 'hello', which does not exist")


def test_unknown_red_flag_on_a_choice() -> None:
    source = broken(("red_flag: legs, next: out_ed", "red_flag: wobbly, next: out_ed"))
    expect(source, ("  q_legs:", '{id: "yes"'),
           "node 'q_legs' (choices.0.red_flag): names red flag 'wobbly', which is not in red_flags")


def test_nurse_outcome_must_page_a_nurse() -> None:
    source = broken(("nurse_outcome: out_nurse", "nurse_outcome: out_home"))
    expect(source, ("nurse_outcome:",), "nurse_outcome: 'out_home' must be an outcome that pages a nurse")


def test_level_outcome_of_the_wrong_level() -> None:
    source = broken(("  ed_now: out_ed", "  ed_now: out_today"))
    expect(source, ("level_outcomes:", "ed_now:"),
           "level_outcomes.ed_now: 'out_today' must be an outcome of level 'ed_now'")


def test_checkin_must_ask_a_question() -> None:
    source = broken(("{after: 24h, ask: ci}", "{after: 24h, ask: out_ci_better}"))
    expect(source, ("  out_home:", "ask: out_ci_better"),
           "node 'out_home' (checkins.0.ask): check-in 'out_ci_better' must be a question with choices")


# --- check_reachable, check_every_path_ends ---------------------------------------------------------

def test_unreachable_node() -> None:
    source = MINIMAL + '  out_orphan:\n    type: outcome\n    level: ed_now\n    text: "Call 911."\n'
    expect(source, ("  out_orphan:",), "node 'out_orphan': unreachable: no path from start or any check-in leads here")


def test_loop_without_an_outcome() -> None:
    source = broken(('{id: "no", label: "No", next: out_home}', '{id: "no", label: "No", next: loop_a}'))
    source += ('  loop_a:\n    type: info\n    text: "Round"\n    next: loop_b\n'
               '  loop_b:\n    type: info\n    text: "and round"\n    next: loop_a\n')
    found = expect(source, ("  loop_a:",), "node 'loop_a': no path from here reaches an outcome (a loop or dead end)")
    assert f"{FILE}:{line_of(source, '  loop_b:')}: node 'loop_b': no path from here reaches an outcome " \
           "(a loop or dead end)" in found


# --- check_red_flags_escalate -----------------------------------------------------------------------

def test_red_flag_answer_to_a_non_escalating_outcome() -> None:
    source = broken(("red_flag: legs, next: out_ed}", "red_flag: legs, next: out_home}"))
    expect(source, ("  q_legs:", '{id: "yes"'),
           "node 'q_legs' (choices.0): red-flag answer 'yes' can end at 'home_care', which escalates to no one")


def test_red_flag_answer_below_its_sources_level() -> None:
    source = broken(("red_flag: legs, next: out_ed}", "red_flag: legs, next: out_today}"))
    expect(source, ("  q_legs:", '{id: "yes"'),
           "node 'q_legs' (choices.0): red flag 'legs' can end at 'seen_today', below 'ed_now' that its source "
           "(Seed page: new weakness in the legs) requires")


def test_red_flag_level_must_page_a_nurse() -> None:
    source = broken(("    level: ed_now\n    source: \"Seed", "    level: home_care\n    source: \"Seed"))
    found = expect(source, ("red_flags:", "  legs:", "level: home_care"),
                   "red flag 'legs' (level): a red flag must page a nurse; 'home_care' does not")
    assert any("red flag 'legs' (level): level_outcomes has no outcome for 'home_care'" in p for p in found)


def test_red_flag_level_needs_a_level_outcome() -> None:
    source = broken(("    level: ed_now\n    source: \"Seed", "    level: seen_within_24h\n    source: \"Seed"))
    expect(source, ("red_flags:", "  legs:", "level: seen_within_24h"),
           "red flag 'legs' (level): level_outcomes has no outcome for 'seen_within_24h'")


# --- check_unclear_never_lowers ---------------------------------------------------------------------

def test_incomplete_screen_is_never_below_seen_today() -> None:
    source = broken(("unclear_outcome: out_unclear", "unclear_outcome: out_24h"))
    source += ('  out_24h:\n    type: outcome\n    level: seen_within_24h\n'
               '    text: "Within a day. Call 911 if worse."\n')
    found = expect(source, ("unclear_outcome:",),
                   "unclear_outcome: 'out_24h' is 'seen_within_24h'; an incomplete screen needs 'seen_today' or "
                   "more urgent")
    assert not any("must be an outcome that pages a nurse" in p for p in found)  # 24h does page: only this rule


# --- check_choices, check_phrases -------------------------------------------------------------------

def test_duplicate_choice_id() -> None:
    source = broken(('{id: "no", label: "No", next: out_home}', '{id: "yes", label: "No", next: out_home}'))
    expect(source, ("  q_legs:", "choices:"), "node 'q_legs' (choices): choice id 'yes' is used twice")


def test_bad_phrase_pattern() -> None:
    source = broken(('phrases: ["legs? (are|is) weak"]', 'phrases: ["legs? (are|is weak"]'))
    found = problems(source)
    prefix = f"{FILE}:{line_of(source, '(are|is weak')}: red flag 'legs' (phrases.en.0): bad phrase pattern: "
    assert any(p.startswith(prefix) for p in found), found


def test_a_near_rules_parts_that_cannot_be_searched_together() -> None:
    # each compiles alone, but the engine searches a near rule's parts as one pattern, groups and all (scores.py reads
    # them): a score group named twice cannot be
    source = broken(('phrases: ["legs? (are|is) weak"]',
                     'phrases: ["legs? (are|is) weak"]\n    near:\n'
                     '      - {parts: ["a (?P<was>\\\\d) then", "(?P<was>\\\\d) now"], signs: [legs]}'))
    expect_detail(source, '(?P<was>', "red flag 'legs' (near.en.0): its parts cannot be searched together",
                  "redefinition of group name")


def test_phrases_may_name_the_same_score_groups() -> None:
    # a flag's phrases are searched together only to ask whether any is there (redflags.any_of, no groups); each is
    # then searched alone, so two may both name `was` and `now` (scores.py)
    source = broken(('phrases: ["legs? (are|is) weak"]', 'phrases: ["a (?P<was>\\\\d) then (?P<now>\\\\d)", '
                     '"(?P<was>\\\\d) before and (?P<now>\\\\d) now"]'))
    assert parse_flow(source, FILE).flow.red_flags["legs"].phrases["en"][1].startswith("(?P<was>")


def test_a_look_alike_pattern_that_does_not_compile() -> None:
    # an `unless` pattern is compiled with the flag's others at detect: broken, it would fail every text, not one
    source = broken(('phrases: ["legs? (are|is) weak"]',
                     'phrases: ["legs? (are|is) weak"]\n    unless: {en: ["asleep", "next: from (sitting"]}'))
    expect_detail(source, 'unless:', "red flag 'legs' (unless.en.1): bad look-alike pattern: ", "missing )")


def test_look_alike_patterns_that_cannot_be_searched_together() -> None:
    # the engine asks only whether any look-alike is there, with the groups taken out (redflags.any_of): a
    # back-reference compiles alone but names a group that is no longer there
    source = broken(('phrases: ["legs? (are|is) weak"]',
                     'phrases: ["legs? (are|is) weak"]\n    unless: {en: ["asleep", "(numb) and \\\\1 again"]}'))
    expect_detail(source, 'unless:', "red flag 'legs' (unless): its clause patterns cannot be searched ",
                  "invalid group reference")


def test_phrases_with_a_back_reference_cannot_be_searched_together() -> None:
    source = broken(('phrases: ["legs? (are|is) weak"]', 'phrases: ["legs? (are|is) weak", "(weak) and \\\\1er"]'))
    expect_detail(source, '(weak) and', "red flag 'legs' (phrases): the flag's phrases cannot be searched",
                  "invalid group reference")


# --- check_languages, check_option_counts -----------------------------------------------------------

def test_missing_language_text() -> None:
    source = broken(("languages: [en]", "languages: [en, es]"))
    found = expect(source, ("  q_legs:", 'text: "Are your legs weak?"'), "node 'q_legs' (text): no 'es' text")
    assert f"{FILE}:{line_of(source, 'help:')}: messages.help: no 'es' text" in found


def test_text_in_an_undeclared_language() -> None:
    source = broken(('text: "Are your legs weak?"', 'text: {en: "Are your legs weak?", fr: "Jambes faibles ?"}'))
    expect(source, ("  q_legs:", "text:"), "node 'q_legs' (text): text in 'fr', which is not in the flow's languages")


def test_placeholder_mismatch_between_languages() -> None:
    source = broken(("languages: [en]", "languages: [en, es]"),
                    ('text: "Are your legs weak?"',
                     'text: {en: "Are your legs weak? {clinic_name}", es: "¿Tiene las piernas débiles?"}'))
    expect(source, ("  q_legs:", "text:"), "node 'q_legs' (text): 'es' placeholders [] differ from ['clinic_name']")


def test_unknown_placeholder() -> None:
    source = broken(('text: "Are your legs weak?"', 'text: "Are your legs weak, {patient_name}?"'))
    expect(source, ("  q_legs:", "text:"), "node 'q_legs' (text): unknown placeholder ['patient_name'] in 'en'")


def test_broken_placeholder() -> None:
    source = broken(('text: "Are your legs weak?"', 'text: "Are your legs weak {?"'))
    found = problems(source)
    assert any(p.startswith(f"{FILE}:{line_of(source, 'weak {?')}: node 'q_legs' (text): bad placeholder:")
               for p in found), found


def test_option_missing_in_a_language() -> None:
    source = broken(("languages: [en]", "languages: [en, es]"),
                    ('{id: "no", label: "No", next: out_home}',
                     '{id: "no", label: {en: "No", es: "No"}, next: out_home}'))
    expect(source, ("  q_legs:", "choices:"), "node 'q_legs' (choices): 1 options in 'es' but 2 in 'en'")


# --- check_emergency_advice -------------------------------------------------------------------------

def test_outcome_text_without_911() -> None:
    source = broken(('text: "Rest and use heat. If worse, call 911."', 'text: "Rest and use heat."'))
    expect(source, ("  out_home:", "text:"),
           "node 'out_home' (text): 'en' text does not say to call 911 in an emergency")


def test_message_without_911() -> None:
    source = broken(('stop: "{clinic_name}: no more texts. In an emergency call 911."', 'stop: "Bye."'))
    expect(source, ("stop:",), "messages.stop: 'en' text does not say to call 911 in an emergency")


def test_first_message_without_911() -> None:
    source = broken(('text: "{clinic_name}: a few questions. In an emergency call 911."',
                     'text: "{clinic_name}: a few questions."'))
    expect(source, ("  welcome:", "text:"), "node 'welcome' (text): 'en' text does not say to call 911 in an emergency")


def test_voice_wording_of_an_outcome_without_911() -> None:
    source = broken(('    text: "Go to the emergency department now, or call 911."\n',
                     '    text: "Go to the emergency department now, or call 911."\n'
                     '    channels: {voice: "Go to the emergency department now."}\n'))
    expect(source, ("  out_ed:", "channels:"),
           "node 'out_ed' (channels.voice): 'en' text does not say to call 911 in an emergency")


# --- check_keypad -----------------------------------------------------------------------------------

def test_voice_option_must_name_the_key() -> None:
    source = broken(('voice_option: "If {label}, press {key}."', 'voice_option: "If {label}, say so."'))
    expect(source, ("voice_option:",),
           "messages.voice_option: 'en' text must name the option and its key ({label}, {key}) for keypad callers")


def test_voice_controls_must_name_9_and_0() -> None:
    source = broken(('voice_controls: "Press 9 to hear the question again, or 0 for a nurse."',
                     'voice_controls: "Stay on the line."'))
    expect(source, ("voice_controls:",),
           "messages.voice_controls: 'en' text must tell callers that 9 repeats the question and 0 reaches a nurse")


def test_free_text_cannot_be_a_screening_question() -> None:
    source = broken(('{id: "no", label: "No", next: out_home}', '{id: "no", label: "No", next: q_story}'))
    source += ('  q_story:\n    type: free\n    screening: true\n    text: "Tell us more."\n'
               '    channels: {voice: "Tell us more, or press 1 to skip."}\n    next: out_home\n')
    expect(source, ("  q_story:", "screening:"),
           "node 'q_story' (screening): a free-text question cannot be answered by keypad: red-flag screening "
           "needs choices")


def test_free_text_needs_a_keypad_skip_on_the_phone() -> None:
    source = broken(('{id: "no", label: "No", next: out_home}', '{id: "no", label: "No", next: q_story}'))
    source += '  q_story:\n    type: free\n    text: "Tell us more."\n    next: out_home\n'
    found = problems(source)
    assert any(p.startswith(f"{FILE}:{line_of(source, '  q_story:')}: node 'q_story' (channels): a free-text "
                            "question needs voice wording") for p in found), found


# --- check_followup_privacy -------------------------------------------------------------------------

def test_checkin_must_name_the_clinic() -> None:
    source = broken(('text: "{clinic_name}: checking in. How are you today?"', 'text: "Checking in. How are you?"'))
    expect(source, ("  ci:", "text:"), "node 'ci' (text): 'en' follow-up text must name the clinic ({clinic_name})")


def test_checkin_must_not_name_a_symptom() -> None:
    source = broken(('text: "{clinic_name}: checking in. How are you today?"',
                     'text: "{clinic_name}: checking in. How is your back pain?"'))
    expect(source, ("  ci:", "text:"), "node 'ci' (text): 'en' follow-up text names a symptom or condition ('back')")


def test_checkin_must_fit_one_text() -> None:
    long_text = "{clinic_name}: checking in. " + "How are you doing today? " * 6
    source = broken(('text: "{clinic_name}: checking in. How are you today?"', f'text: "{long_text.strip()}"'))
    found = problems(source)
    prefix = f"{FILE}:{line_of(source, '  ci:', 'text:')}: node 'ci' (text): 'en' follow-up text is about "
    assert any(p.startswith(prefix) and p.endswith("characters; at most 160") for p in found), found


# --- the schema (pydantic) --------------------------------------------------------------------------

def test_unknown_key() -> None:
    source = broken(('    text: "Are your legs weak?"\n', '    text: "Are your legs weak?"\n    colour: red\n'))
    expect(source, ("  q_legs:", "colour:"), "node 'q_legs' (colour): Extra inputs are not permitted")


def test_unknown_top_level_key() -> None:
    source = broken(("expiry: 24h", "expiry: 24h\nexpires: 24h"))
    expect(source, ("expires:",), "expires: Extra inputs are not permitted")


def test_missing_required_field() -> None:
    source = broken(('    text: "Are your legs weak?"\n', ""))
    expect(source, ("  q_legs:",), "node 'q_legs' (text): Field required")


def test_missing_top_level_field() -> None:
    source = broken(("nurse_outcome: out_nurse\n", ""))
    found = problems(source)
    assert any(p.endswith(": nurse_outcome: Field required") for p in found), found


def test_bad_duration() -> None:
    source = broken(("expiry: 24h", "expiry: tomorrow"))
    expect(source, ("expiry:",),
           "expiry: Value error, expected a duration like '30m', '24h' or '3d', got 'tomorrow'")


def test_bad_checkin_duration() -> None:
    source = broken(("{after: 24h, ask: ci}", "{after: 1 week, ask: ci}"))
    found = problems(source)
    assert any(p.startswith(f"{FILE}:{line_of(source, '{after: 1 week')}: node 'out_home' (checkins.0.after): "
                            "Value error, expected a duration") for p in found), found


def test_bad_level() -> None:
    source = broken(("    level: home_care\n    text: \"Rest", "    level: whenever\n    text: \"Rest"))
    found = problems(source)
    prefix = f"{FILE}:{line_of(source, 'level: whenever')}: node 'out_home' (level): Input should be 'call_911_now'"
    assert any(p.startswith(prefix) for p in found), found


def test_red_flag_without_source() -> None:
    source = broken(('    source: "Seed page: new weakness in the legs"\n', ""))
    expect(source, ("red_flags:", "  legs:"), "red flag 'legs' (source): Field required")


def test_red_flag_with_an_empty_source() -> None:
    source = broken(('source: "Seed page: new weakness in the legs"', 'source: ""'))
    expect(source, ("red_flags:", "  legs:", "source:"), "red flag 'legs' (source): String should have at least 3 "
                                                            "characters")


def test_unknown_node_type() -> None:
    source = broken(("  out_ci_better:\n    type: outcome", "  out_ci_better:\n    type: finale"))
    found = problems(source)
    assert any(p.startswith(f"{FILE}:{line_of(source, '  out_ci_better:')}: node 'out_ci_better'") and "finale"
               in p for p in found), found


def test_too_many_choices() -> None:
    many = "".join(f'      - {{id: c{i}, label: "Choice {i}", next: out_ci_better}}\n' for i in range(9))
    source = broken(("      - {id: better, label: Better, next: out_ci_better}\n"
                     "      - {id: worse, label: Worse, next: q_faint}\n", many))
    expect(source, ("  ci:", "choices:"), "node 'ci' (choices): List should have at most 8 items after validation, "
                                          "not 9")


def test_not_yaml_and_not_a_mapping() -> None:
    found = problems("id: [unclosed\n")
    assert found[0].startswith(f"{FILE}:") and "not valid YAML" in found[0]
    assert problems("- just\n- a list\n") == [f"{FILE}:1: file: expected a YAML mapping at the top"]


# --- flask --app service flows check FILE -----------------------------------------------------------

def _check(app: Flask, path: Path | str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["flows", "check", str(path)])
    return result, result.output + (result.stderr or "")


def test_flows_check_rejects_a_broken_file(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    source = broken(("red_flag: legs, next: out_ed}", "red_flag: legs, next: out_today}"),
                    ('text: "Rest and use heat. If worse, call 911."', 'text: "Rest and use heat."'))
    path.write_text(source)
    result, output = _check(app, path)
    assert result.exit_code == 1
    choice_line, text_line = line_of(source, "  q_legs:", '{id: "yes"'), line_of(source, "  out_home:", "text:")
    assert f"{path}:{choice_line}: node 'q_legs' (choices.0): red flag 'legs' can end at 'seen_today', " \
           "below 'ed_now'" in output
    assert f"{path}:{text_line}: node 'out_home' (text): 'en' text does not say to call 911 in an emergency" in output
    assert ": ok (" not in output


def test_flows_check_accepts_the_served_flow(app: Flask) -> None:
    path = ROOT / "flows" / "back_spasm.yaml"
    result, output = _check(app, path)
    assert result.exit_code == 0, output
    assert f"{path}: ok (back_spasm version " in output


def test_flows_check_names_an_unreadable_file(app: Flask, tmp_path: Path) -> None:
    result, output = _check(app, tmp_path / "missing.yaml")
    assert result.exit_code == 1 and f"{tmp_path / 'missing.yaml'}:1: file: cannot read" in output


def test_a_flow_must_include_the_universal_emergency_signs() -> None:
    source = broken(("include: [universal]\n", ""))
    found = problems(source)
    assert any("include: every flow must include 'universal'" in p for p in found), found


def test_an_unknown_include_is_named_with_its_line() -> None:
    source = broken(("include: [universal]", "include: [universal, nosuch]"))
    expect(source, ("include:",), "include: 'nosuch' was not found in flows/shared/")


def test_a_problem_in_the_shared_file_names_that_file() -> None:
    # A flow's own id that clashes with a shared one is refused, naming the flow's line.
    source = broken(("  out_home:\n", "  out_u_crisis:\n    type: outcome\n    level: home_care\n"
                                      "    text: \"x. Call 911.\"\n  out_home:\n"))
    found = problems(source)
    assert any("out_u_crisis" in p and "also defined in universal.yaml" in p for p in found), found


def test_a_red_flag_outcome_must_have_its_level() -> None:
    source = broken(("    phrases: [\"fainted\"]", "    phrases: [\"fainted\"]\n    outcome: out_ed"))
    expect(source, ("  faint:", "outcome:"), "red flag 'faint': 'out_ed' must be an outcome of level "
                                              "'call_911_now'")


def test_a_loose_rule_needs_a_confirming_question() -> None:
    source = broken(("    phrases: [\"legs? (are|is) weak\"]",
                     "    phrases: [\"legs? (are|is) weak\"]\n    near:\n      - {parts: [legs], signs: [funny], "
                     "sure: false}"))
    found = problems(source)
    assert any("needs the flag's `confirm` question" in p for p in found), found
