"""Red-flag phrases recognised in any free text, at any step, in every language the flow has.

Patterns come from the flow's `red_flags` (regexes over normalised text: lower-case ASCII, no
apostrophes, so "can't" is written "cant"). A match preceded in its clause by a negation cue
("no numbness", "I didn't fall") does not count; a cue inside the match does ("I can't pee").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .flow import Flow, Level, most_urgent
from .text import clauses

# Words that cancel a following finding in the same clause. "cant" is deliberately absent:
# "I can't feel my legs" is a red flag, and patterns that need it spell it out.
_NEGATION_CUES = (
    r"no|not|never|without|nothing|none|nor|neither|dont|didnt|doesnt|havent|hasnt|hadnt|isnt|arent|"
    r"wasnt|werent|wont|denies|deny|free of|negative for|"
    r"ni|nunca|sin|nada|tampoco|ningun|ninguna|ninguno"
)
_NEGATED_TAIL = re.compile(rf"\b(?:{_NEGATION_CUES})\b(?:\s+\w+){{0,3}}\s*$")
# "fever: no", "numbness - none": a bare negation right after the finding ends the clause.
_NEGATED_AFTER = re.compile(r"^\s*(?:no|none|nope|nada|ninguna|ninguno)\s*$")


@dataclass(frozen=True)
class Finding:
    flag: str
    level: Level
    quote: str  # the words that matched, for the nurse


_cache: dict[int, tuple[Flow, tuple[tuple[str, re.Pattern[str]], ...]]] = {}


def _compiled(flow: Flow) -> tuple[tuple[str, re.Pattern[str]], ...]:
    # Flows are immutable and few; keyed by identity because their dict fields are unhashable.
    cached = _cache.get(id(flow))
    if cached is not None and cached[0] is flow:
        return cached[1]
    patterns = []
    for flag_id, flag in flow.red_flags.items():
        for phrases in flag.phrases.values():
            for phrase in phrases:
                patterns.append((flag_id, re.compile(rf"\b(?:{phrase})\b")))
    _cache[id(flow)] = (flow, tuple(patterns))
    return _cache[id(flow)][1]


def _negated(clause: str, match: re.Match[str]) -> bool:
    return bool(_NEGATED_TAIL.search(clause[: match.start()]) or _NEGATED_AFTER.match(clause[match.end():]))


def detect(flow: Flow, text: str) -> list[Finding]:
    """Every red flag the text asserts, most urgent first; each flag once."""
    found: dict[str, Finding] = {}
    for clause in clauses(text):
        for flag_id, pattern in _compiled(flow):
            if flag_id in found:
                continue
            for match in pattern.finditer(clause):
                if not _negated(clause, match):
                    found[flag_id] = Finding(flag_id, flow.red_flags[flag_id].level, match.group(0))
                    break
    return sorted(found.values(), key=lambda f: -f.level.rank)


def worst(findings: list[Finding]) -> Level | None:
    return most_urgent([f.level for f in findings]) if findings else None
