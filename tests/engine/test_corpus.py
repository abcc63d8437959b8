"""The red-flag corpus (tests/corpus/): patients' own words, played through the engine.

The parts phrases were tuned on (TUNED_PARTS) must be caught whole, with no mimic over-triaged, and
with enough emergencies that zero misses puts the exact 95% upper bound of the miss rate under 1%.
The newest held-out part is never tuned on: `flows corpus` reports it, README shows its figures.
"""

from __future__ import annotations

import math

import pytest

from service.engine.loader import load_flow
from service.flowtools.corpus import TUNED_PARTS, load_part, play, upper_bound
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow
CORPUS = ROOT / "tests" / "corpus"
TUNED = [item for part in TUNED_PARTS for item in load_part(CORPUS, part)]


@pytest.mark.parametrize("item", [i for i in TUNED if i.flag], ids=lambda i: f"{i.flag}/{i.lang}/{i.at}: {i.text[:40]}")
def test_every_emergency_in_patients_words_is_caught(item) -> None:  # type: ignore[no-untyped-def]
    played = play(FLOW, item)
    assert played.caught, (item.text, played.level, played.flags)


@pytest.mark.parametrize("item", [i for i in TUNED if not i.flag], ids=lambda i: f"mimic/{i.lang}: {i.text[:40]}")
def test_no_mimic_is_escalated_as_an_emergency(item) -> None:  # type: ignore[no-untyped-def]
    played = play(FLOW, item)
    assert played.level is None or played.level.disposition != "emergency", (item.text, played.flags)


def test_the_corpus_is_large_enough_for_the_safety_bar() -> None:
    emergencies = [i for i in TUNED if i.flag]
    mimics = [i for i in TUNED if not i.flag]
    assert upper_bound(0, len(emergencies)) < 0.01, len(emergencies)
    assert len(mimics) >= 100
    assert {i.lang for i in emergencies} == {"en", "es"}


def test_clopper_pearson_upper_bound_matches_the_closed_forms() -> None:
    # Zero misses: 1 - (alpha/2)^(1/n); all missed: 1; and the textbook 1 of 10 -> 0.445.
    assert math.isclose(upper_bound(0, 300), 1 - 0.025 ** (1 / 300), rel_tol=1e-6)
    assert upper_bound(5, 5) == 1.0
    assert math.isclose(upper_bound(1, 10), 0.4450, abs_tol=5e-4)
