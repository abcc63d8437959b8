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
# "no" right before a subject is an interjection, not a negation: "no my legs are numb". Not "he" or
# "me": Spanish "no he tenido fiebre", "no me he caido" are negations.
_NO_INTERJECTION = r"(?:no|nope|nah)\s+(?:my|i|im|ive|it|its|the|they|theyre|she|we|this|that)\b"
_NEGATED_TAIL = re.compile(
    rf"\b(?!{_NO_INTERJECTION})(?:{_NEGATION_CUES})\b(?:\s+\w+){{0,3}}\s*$"
    r"|\b(?:dont|do not|didnt|did not) (?:think|believe) (?:that )?(?:i|im|its|it|ive)\b(?:\s+\w+){0,3}\s*$"
)
# A negation does not reach past a new subject ("no numbness and I can't pee", "I don't know why I
# can't walk"), nor into a finding that opens with a preposition ("no numbness after the fall").
_SCOPE_BREAK = re.compile(
    r"\b(?:and|or|so|then|because|cause|cuz|since|why|how|when|while|now|also|plus|except|y|pero|porque)\s+"
    r"(?=(?:i|im|ive|id|my|it|its|me|theres|there|yo|mi|tengo)\b)"
)
_OPENS_NEW_SCOPE = ("after ", "since ", "from ")
# A finding that is itself a negative statement ("no puedo orinar", "sin control de la vejiga") is not
# cancelled by a negation before it: Spanish doubles negation ("no sé por qué no puedo caminar").
_SELF_NEGATIVE = re.compile(r"^(?:no|not|sin|ni|nunca|tampoco|ya no)\b")
# Doubt is not denial: "no sé si tengo fiebre", "not sure if it's a fever" go to the nurse. A negation
# after the doubt still counts ("no se, no tengo fiebre" typed without the comma).
_UNSURE_TAIL = re.compile(rf"\b(?:no se|no lo se|no estoy segur[oa]|not sure|unsure|dont know|do not know)\b"
                          rf"(?:\s+(?!(?:{_NEGATION_CUES})\b)\w+){{0,4}}\s*$")
# "fever: no", "numbness - none": a bare negation right after the finding ends the clause.
_NEGATED_AFTER = re.compile(r"^\s*(?:no|none|nope|nada|ninguna|ninguno)\s*$")
# "fever? no": a question answered with a bare negation is one clause, so the negation counts.
_QUESTION_ANSWERED_NO = re.compile(r"\?+[ \t]*(no|nope|none|nah|nada|negative)(?=[ \t]*(?:[.;!,\n]|$))",
                                   re.IGNORECASE)


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
    if _NEGATED_AFTER.match(clause[match.end():]):
        return True
    if match.group(0).startswith(_OPENS_NEW_SCOPE):
        return False
    before = clause[: match.start()]
    breaks = list(_SCOPE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end():]
    if _SELF_NEGATIVE.match(match.group(0)) or _UNSURE_TAIL.search(before):
        return False
    return bool(_NEGATED_TAIL.search(before))


def detect(flow: Flow, text: str) -> list[Finding]:
    """Every red flag the text asserts, most urgent first; each flag once."""
    found: dict[str, Finding] = {}
    for clause in clauses(_QUESTION_ANSWERED_NO.sub(r" \1", text)):
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
