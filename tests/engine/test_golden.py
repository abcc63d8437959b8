"""Golden tests of the engine: turns.yaml's inputs replayed through engine.step; the answers must equal
golden/turns.json exactly (messages, actions, new state). `--update-golden` rewrites the JSON."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.engine.loader import load_flow
from service.engine.state import State
from service.engine.step import step
from service.settings import ROOT

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "turns.yaml").read_text())
FLOW = load_flow(ROOT / "flows" / f"{CASES['flow']}.yaml").flow
GOLDEN = HERE / "golden" / "turns.json"
CONTEXT = {"clinic_name": "Test Clinic", "clinic_phone": "555-0100"}


def _action(action: Any) -> dict[str, Any]:
    fields = {f.name: getattr(action, f.name) for f in dataclasses.fields(action)}
    return {"type": type(action).__name__,
            **{k: (str(v) if not isinstance(v, (str, int, bool, type(None), list, tuple)) else v)
               for k, v in fields.items()}}


def play(case: dict[str, Any]) -> list[dict[str, Any]]:
    state = State.from_json(case.get("state"))
    turns = []
    for text in case["inputs"]:
        result = step(FLOW, state, text, CONTEXT, channel=case.get("channel", "sms"))
        turns.append({"input": text, "messages": [{"key": m.key, "text": m.text} for m in result.messages],
                      "actions": [_action(a) for a in result.actions], "state": result.state.to_json()})
        state = result.state
    return turns


def _normalised(value: Any) -> Any:
    return json.loads(json.dumps(value))  # tuples as lists, as the JSON file holds them


def test_every_case_matches_its_golden_answers(update_golden: bool) -> None:
    got = {case["name"]: _normalised(play(case)) for case in CASES["cases"]}
    if update_golden:
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(got) == sorted(expected), "cases added or removed: run with --update-golden and review the diff"
    for name in got:
        assert got[name] == expected[name], name


@pytest.mark.parametrize("name", [c["name"] for c in CASES["cases"]])
def test_golden_answers_say_911_on_every_outcome(name: str) -> None:
    # A property the golden file must keep whatever it says: an outcome reached is an outcome that names 911.
    for turn in json.loads(GOLDEN.read_text())[name]:
        for message in turn["messages"]:
            if message["key"].startswith("out_"):
                assert "911" in message["text"], (name, message)
