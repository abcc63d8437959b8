"""Load-time rules for red-flag patterns: each compiles, and compiles as the engine searches it (redflags.py).

A pattern the engine cannot compile would fail every text at detect, so it must fail here, with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .flow import Flow
from .problem import Problem
from .redflags import alternatives, any_of, unless_kinds

Path = tuple[str | int, ...]


def _unsearchable(path: Path, patterns: list[str], what: str, search: Callable[[list[str]], object] = alternatives,
                  ) -> list[Problem]:
    try:  # as the engine searches them (one alone, a flag's phrases or a near rule's parts as one), where two that
        search(patterns)  # compile alone may not together: a group named twice, a global flag not at the start
    except re.error as exc:
        return [Problem(path, f"{what}: {exc}")]
    return []


def check_phrases(flow: Flow) -> Iterator[Problem]:
    for flag_id, flag in flow.red_flags.items():
        where = ("red_flags", flag_id)
        alone = [problem for lang, phrases in flag.phrases.items() for index, phrase in enumerate(phrases)
                 for problem in _unsearchable((*where, "phrases", lang, index), [phrase], "bad phrase pattern")]
        listed = [phrase for phrases in flag.phrases.values() for phrase in phrases]
        yield from alone or _unsearchable((*where, "phrases"), listed, "the flag's phrases cannot be searched together",
                                          any_of)
        for lang, rules in flag.near.items():
            for index, rule in enumerate(rules):
                path = (*where, "near", lang, index)
                alone = [problem for part in rule.parts + rule.signs
                         for problem in _unsearchable(path, [part], "bad pattern")]
                yield from alone or (_unsearchable(path, rule.parts, "its parts cannot be searched together")
                                     + _unsearchable(path, rule.signs, "its signs cannot be searched together"))
                if not rule.sure and flag.confirm is None:
                    yield Problem(("red_flags", flag_id, "near", lang, index),
                                  "a rule that only suggests the flag (sure: false) needs the flag's `confirm` "
                                  "question")


def _bare(pattern: str) -> list[str]:
    return [p for kind in unless_kinds([pattern]) for p in kind]  # without its `next:` or `with next:`


def check_unless(flow: Flow) -> Iterator[Problem]:
    """A look-alike pattern that does not compile would fail every text at detect, not only its look-alike."""
    for flag_id, flag in flow.red_flags.items():
        where = ("red_flags", flag_id, "unless")
        alone = [problem for lang, patterns in flag.unless.items() for index, pattern in enumerate(patterns)
                 for problem in _unsearchable((*where, lang, index), _bare(pattern), "bad look-alike pattern")]
        if alone:
            yield from alone
            continue
        for kind, patterns in zip(("clause", "next clause", "joined clauses"),
                                  unless_kinds([p for ps in flag.unless.values() for p in ps]), strict=True):
            if patterns:
                yield from _unsearchable(where, patterns, f"its {kind} patterns cannot be searched together", any_of)
