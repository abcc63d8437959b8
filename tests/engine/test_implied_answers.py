"""Hedges, durations and ages read against the question (engine/implied.py): no database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.engine.implied import NO, YES, age, duration, hedge, implied
from service.engine.loader import load_flow
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


@pytest.mark.parametrize("text, days", [("2 days", 2), ("a few days", 3), ("3 weeks", 21), ("only since yesterday", 1),
                                        ("since monday", 1), ("a month", 30), ("over a week", 7.5),
                                        ("a week and a half", 10.5), ("hace 3 días", 3), ("unas semanas", 21),
                                        ("desde ayer", 1)])
def test_durations(text: str, days: float) -> None:
    assert duration(text) == timedelta(days=days)


@pytest.mark.parametrize("text", ["since last week", "it hurts", "3 days or 3 weeks", ""])
def test_unclear_durations_say_nothing(text: str) -> None:
    assert duration(text) is None


@pytest.mark.parametrize("text, years", [("I'm 45", 45), ("45", 45), ("i am 72 years old", 72), ("tengo 50 años", 50),
                                         ("im fine", None), ("3", None)])
def test_ages(text: str, years: int | None) -> None:
    assert age(text) == years


@pytest.mark.parametrize("text, expected", [("a little", YES), ("kinda numb down there", YES), ("sometimes", YES),
                                            ("un poco", YES), ("not really", NO), ("I don't think so", NO),
                                            ("creo que no", NO), ("a little better", None), ("I don't know", None),
                                            ("maybe", None), ("yes", None), ("no", None)])
def test_hedges(text: str, expected: str | None) -> None:
    assert hedge(text) == expected


def test_the_question_says_what_a_number_means() -> None:
    lasting, age_question = FLOW.nodes["q_lasting"], FLOW.nodes["q_sudden_over_60"]
    assert implied(lasting, "2 days") == NO and implied(lasting, "3 weeks") == YES
    assert implied(age_question, "I'm 45") == NO
    assert implied(age_question, "I'm 70") is None  # the question also asks "suddenly": not yet a yes
    assert implied(FLOW.nodes["q_fever"], "2 days") is None  # a question without `yes_when`
