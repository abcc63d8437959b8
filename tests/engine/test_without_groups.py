"""text.without_groups: the red-flag prefilter's patterns lose their groups and nothing else."""

from __future__ import annotations

import re

import pytest

from service.engine.loader import load_flow
from service.engine.text import clauses, without_groups
from service.settings import ROOT
from tests.engine.test_redflag_families import ALL_FAMILIES, ALL_LOOK_ALIKES


@pytest.mark.parametrize(("pattern", "expected"), [
    ("(a|b) c", "(?:a|b) c"),
    ("(?P<was>\\d+)/10 now (?P<now>\\d+)", "(?:\\d+)/10 now (?:\\d+)"),
    ("(?<!not )(?=x)(?:y)(?!z)(?<=w)", "(?<!not )(?=x)(?:y)(?!z)(?<=w)"),  # look-arounds and (?: are not groups
    ("\\(a\\) [(]b[)]", "\\(a\\) [(]b[)]"),  # escaped and in a class: literal parentheses
    ("[]()] ([^]()] x)", "[]()] (?:[^]()] x)"),  # a "]" first in a class is a member
    ("[\\]()] (y)", "[\\]()] (?:y)"),  # an escaped "]" does not close the class
])
def test_groups_become_non_capturing(pattern: str, expected: str) -> None:
    assert without_groups(pattern) == expected
    assert re.compile(without_groups(pattern)).groups == 0


def test_every_flow_pattern_matches_the_same_texts_without_its_groups() -> None:
    # a prefilter that differed would hide or invent a finding: the probes' words, split as the engine splits them
    # (one clause in ten, for time: every pattern alone is 10 million searches; test_redflag_families plays every
    # probe through the engine, prefilter and all)
    flow = load_flow(ROOT / "flows" / "back_spasm.yaml").flow  # with its Spanish and the shared emergencies
    patterns = [p.removeprefix("with next:").removeprefix("next:").strip() for flag in flow.red_flags.values()
                for listed in (*flag.phrases.values(), *flag.unless.values()) for p in listed]
    texts = [clause for text in (*ALL_FAMILIES, *ALL_LOOK_ALIKES) for clause in clauses(text)][::10]
    assert len(patterns) > 1000 and len(texts) > 250
    differing = []
    for pattern in patterns:
        before, after = re.compile(pattern), re.compile(without_groups(pattern))
        assert after.groups == 0, pattern
        differing += [(pattern, t) for t in texts if (before.search(t) is None) != (after.search(t) is None)]
    assert not differing, differing[:5]
