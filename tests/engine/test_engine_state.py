"""The conversation state survives its trip through the database's JSON column, every field of it."""

from __future__ import annotations

import json
from dataclasses import fields

from service.engine.flow import Level
from service.engine.state import DONE, State


def test_every_field_round_trips_through_json() -> None:
    state = State(node="q_weakness", status=DONE, language="es", answers={"q_bladder": "no"}, misses=2,
                  red_flags=("saddle_numbness",), quotes=("numb down there",), outcome="out_ed_now",
                  level=Level.ed_now, privacy_notice_sent=True)
    data = state.to_json()
    assert list(data) == [f.name for f in fields(State)]  # a new field must be saved too
    assert State.from_json(json.loads(json.dumps(data))) == state


def test_saved_answers_are_a_copy() -> None:
    state = State(answers={"q_bladder": "no"})
    state.to_json()["answers"]["q_bladder"] = "yes"
    assert state.answers == {"q_bladder": "no"}
