"""A hedged yes at a red-flag question ("a little", "kind of") is a yes, unless what is half admitted is that flag's own
look-alike (its `unless`): "a little constipated" at the bladder question is constipation, asked again, not a loss of
bowel control (holdout23's mimic)."""

from __future__ import annotations

from service.engine.loader import load_flow
from service.engine.redflags import looks_alike
from service.engine.state import ACTIVE, Escalate, State
from service.engine.step import step
from service.flowtools.corpus import _screen_before
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
CONTEXT = {"clinic_name": "Test Clinic", "clinic_phone": "555-0100"}


def _at(node: str, text: str):  # type: ignore[no-untyped-def]
    state = State(node=node, status=ACTIVE, language="en", answers=_screen_before(FLOW, node), privacy_notice_sent=True)
    return step(FLOW, state, text, CONTEXT)


def test_look_alike_is_read_from_the_flags_unless() -> None:
    assert looks_alike(FLOW, "bladder_bowel", "a little constipated from the pain pills")
    assert not looks_alike(FLOW, "bladder_bowel", "a little, I leak when I cough")
    assert not looks_alike(FLOW, "no_such_flag", "a little constipated")


def test_hedged_look_alike_is_asked_again_not_escalated() -> None:
    result = _at("q_bladder", "a little constipated from the pain pills")
    assert not [a for a in result.actions if isinstance(a, Escalate)]
    assert result.state.node == "q_bladder"
    assert result.state.misses == 1


def test_hedged_yes_still_escalates() -> None:
    for text in ("a little", "a little, I leak when I cough", "kind of, I dribble"):
        result = _at("q_bladder", text)
        levels = [a.level.value for a in result.actions if isinstance(a, Escalate)]
        assert levels == ["ed_now"], text
