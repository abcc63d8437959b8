"""Clinicians edit flows: open conversations finish on their version, edits are diffed, cases catch mistakes."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from service import create_app
from service.flowtools.case_files import load_case_file
from service.flowtools.conversation_tests import ConversationTester
from service.models import Conversation, FlowVersion
from service.settings import ROOT
from tests.conftest import ALL_CLEAR, Twilio, play

OTHER_PATIENT = "+12125550177"


def copy_flows(tmp_path: Path) -> Path:
    flows = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", flows)
    return flows


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a visibly newer file


def test_conversation_started_on_version_a_finishes_on_a(settings, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flows = copy_flows(tmp_path)
    app = create_app(replace(settings, flows_dir=str(flows)), clock=clock)
    twilio = Twilio(app.test_client())
    play(twilio, "hi", "no")  # at q_bladder on version A
    edit(flows / "back_spasm.yaml", "Do you have new numbness around your groin, genitals or bottom?",
         "VERSION B: any numbness around your groin, genitals or bottom?")
    a_reply = twilio.sms("no")
    assert "Do you have new numbness" in a_reply.text and "VERSION B" not in a_reply.text
    b_reply = play(twilio, "hi", "no", "no", frm=OTHER_PATIENT)[-1]
    assert "VERSION B" in b_reply.text
    finished = play(twilio, *ALL_CLEAR[2:])[-1]
    assert "20 minutes" in finished.text
    with app.extensions["triage"].factory() as session:
        versions = {c.patient.phone: c.flow_version for c in session.scalars(select(Conversation))}
        stored = set(session.scalars(select(FlowVersion.version)))
    assert len(set(versions.values())) == 2 and set(versions.values()) == stored


def test_flows_check_lists_changes_since_the_served_version(settings, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    flows = copy_flows(tmp_path)
    app = create_app(replace(settings, flows_dir=str(flows)), clock=clock)
    play(Twilio(app.test_client()), "hi")  # serves (and records) the current version
    flow_file = flows / "back_spasm.yaml"
    edit(flow_file, "      - {id: \"yes\", label: \"Yes\", red_flag: bladder_bowel, next: out_ed_now}",
         "      - {id: \"yes\", label: \"Yes\", red_flag: bladder_bowel, next: out_call_911}")
    result = app.test_cli_runner().invoke(args=["flows", "check", str(flow_file)])
    assert result.exit_code == 0, result.output
    assert "changes since served version" in result.output
    assert "answer q_bladder/yes: goes to out_ed_now -> out_call_911" in result.output


def test_a_changed_red_flag_target_fails_its_named_case_with_a_readable_diff(tmp_path: Path) -> None:
    flows = copy_flows(tmp_path)
    edit(flows / "back_spasm.yaml", "      - {id: \"yes\", label: \"Yes\", red_flag: bladder_bowel, next: out_ed_now}",
         "      - {id: \"yes\", label: \"Yes\", red_flag: bladder_bowel, next: out_call_911}")
    case_file = ROOT / "tests" / "conversations" / "red_flags_answered.yaml"
    tester = ConversationTester(flows, create_app)
    try:
        results = {case.name: tester.run(case, str(case_file)) for case in load_case_file(case_file).cases}
    finally:
        tester.close()
    failed = [name for name, result in results.items() if not result.passed]
    assert failed == ["bladder or bowel control lost -> ED now"]
    report = results[failed[0]].report()
    assert "level:\n    - expected: ed_now\n    + got:      call_911_now" in report
    assert "you> yes" in report  # the conversation is shown, for a clinician to follow


def test_flows_test_command_passes_on_shipped_cases_and_fails_readably(settings, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings, clock=clock)
    ok = app.test_cli_runner().invoke(args=["flows", "test", str(ROOT / "tests" / "conversations" / "keywords.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "7 passed, 0 failed" in ok.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("flow: back_spasm\ncases:\n  - name: wrong on purpose\n    steps: [hi, 'yes']\n"
                      "    expect: {level: home_care}\n")
    bad = app.test_cli_runner().invoke(args=["flows", "test", str(broken)])
    assert bad.exit_code == 1
    assert "FAIL" in bad.output and "- expected: home_care" in bad.output and "+ got:      call_911_now" in bad.output
