"""Runs every conversation case in tests/conversations/ (the same files `flows test` runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service import create_app
from service.flowtools.case_files import case_files, load_case_file
from service.flowtools.conversation_tests import ConversationTester
from service.settings import ROOT

# The cases play on a scratch SQLite of their own (ConversationTester), whatever DATABASE_URL says.
pytestmark = pytest.mark.database_free

CASES_DIR = ROOT / "tests" / "conversations"
ALL = [(path, case) for path in case_files(CASES_DIR) for case in load_case_file(path).cases]


@pytest.fixture(scope="module")
def tester():  # type: ignore[no-untyped-def]
    tester = ConversationTester(ROOT / "flows", create_app)
    yield tester
    tester.close()


@pytest.mark.parametrize("path, case", ALL, ids=[f"{p.stem}: {c.name}" for p, c in ALL])
def test_conversation_case(tester: ConversationTester, path: Path, case) -> None:  # type: ignore[no-untyped-def]
    outcome = tester.run(case, str(path.relative_to(ROOT)))
    assert outcome.passed, outcome.report()


def test_every_red_flag_has_a_case_and_a_negated_twin() -> None:
    from service.engine.loader import load_flow
    from service.flowtools.report import covering_cases

    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    covering, twins = covering_cases(CASES_DIR, flow.id)
    assert sorted(set(flow.red_flags) - set(covering)) == []
    assert sorted(set(flow.red_flags) - set(twins)) == []


def test_every_outcome_level_and_keyword_has_a_case() -> None:
    from service.engine.flow import Level, Outcome
    from service.engine.loader import load_flow

    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
    cases = [case for _, case in ALL]
    levels = {case.expect.level for case in cases if case.expect.level}
    assert set(Level) <= levels
    reached = {case.expect.outcome for case in cases} | {flow.level_outcomes.get(level) for level in levels}
    outcomes = {node_id for node_id, node in flow.nodes.items() if isinstance(node, Outcome)}
    assert sorted(outcomes - reached) == []
    sent = {(step.send or "").upper() for case in cases for step in case.steps}
    assert {"STOP", "START", "HELP", "NURSE", "RESTART"} <= sent
