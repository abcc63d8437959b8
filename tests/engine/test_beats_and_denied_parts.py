"""Two engine rules from tuning on holdout18 (#16): a sentence said two words at a time is read as one (not through a
negation), and a body part whose clause ends in a bare negation ("el pecho nada") names no part for a `near` rule."""

from __future__ import annotations

import pytest

from service.engine.redflags import _beats_joined
from tests.engine.test_redflags import flags


@pytest.mark.parametrize(("text", "joined"), [
    ("ok. i'm so. short. of breath.", "ok i'm so short of breath."),
    ("just cant. get. air. in.", "just cant get air in."),
    # a negation, typed with or without its apostrophe, keeps the stops around it
    ("pain bad. it isn't. cant walk.", "pain bad. it isn't. cant walk."),
    ("pain bad. it isnt. cant walk.", "pain bad. it isnt. cant walk."),
    ("no numbness. legs. weak.", "no numbness. legs. weak."),
])
def test_beats_of_one_or_two_words_are_one_sentence(text: str, joined: str) -> None:
    assert _beats_joined(text) == joined


def test_beats_joined_are_read_as_one_finding() -> None:
    assert "breathing" in flags("no faint. i'm so. short. of breath. cant. talk. much.")


@pytest.mark.parametrize("text", [
    "me duele la espalda, si aprieto me duele, el pecho nada",
    "hurts when i press the muscle, the chest no",
])
def test_a_part_denied_after_it_names_no_part(text: str) -> None:
    assert "chest_pain" not in flags(text)


@pytest.mark.parametrize("text", [
    "me duele el pecho y el brazo, nada más",
    "no sale nada y me duele el pecho",
])
def test_a_part_not_denied_still_counts(text: str) -> None:
    assert "chest_pain" in flags(text)
