"""Red-flag phrases recognised in any free text, at any step, in every language the flow has.

Patterns come from the flow's `red_flags` (regexes over normalised text: lower-case ASCII, no
apostrophes, so "can't" is written "cant"). A match preceded in its clause by a negation cue
("no numbness", "I didn't fall") does not count; a cue inside the match does ("I can't pee").

Beyond the phrases: `near` rules find a body part and a sign close together in either order ("my
bottom has been numb since yesterday"), and misspelt key words are read as the word meant
(typos.py). A `near` rule marked `sure: false` only suggests its flag: the engine asks the flag's
`confirm` question instead of escalating.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .flow import Flow, Level, most_urgent
from .long_ago import without_long_ago
from .negation import NEGATION_CUES, denied_after, list_commas_joined, negated
from .scores import rises, rises_across
from .text import clauses, compile_once, without_groups
from .typos import correct, vocabulary

# "fever? no": a question answered with a bare negation is one clause, so the negation counts.
_QUESTION_ANSWERED_NO = re.compile(r"\?+[ \t]*(no|nope|none|nah|nada|negative)(?=[ \t]*(?:[.;!,\n]|$))",
                                   re.IGNORECASE)
# A sentence said a word or two at a time is one sentence: "just cant. get. air. in.", "im just. really short. of
# breath." (a clause of up to two words, then two or more sentences of one or two words, all read as one clause). Not
# from a negation, nor through one: "no numbness. legs. weak." keeps its stops, so the denial does not reach the words
# after it, and "pain bad. it isnt. cant walk." keeps them too; "no. cant. breathe. at. all." joins from "cant".
_WORD = r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?"  # "i'm" is one word, as normalize() makes it
# the cues as typed, with their apostrophes ("isn't", "don't"): the beats are joined before the text is normalised
_TYPED_CUES = re.sub(r"nt\b", "n['\u2019]?t", NEGATION_CUES)
_NO_CUE = rf"(?![ \t]*(?:{_WORD}[ \t]+)?(?:{_TYPED_CUES})\b)"
_BEATS = re.compile(rf"(?:^|(?<=[.!?;,\n]))([ \t]*{_NO_CUE}{_WORD}(?:[ \t]+{_WORD})?)"
                    rf"((?:\.[ \t]+{_NO_CUE}{_WORD}(?:[ \t]+{_WORD})?){{2,}})(?=[ \t]*(?:\.|$))", re.IGNORECASE)


def _one_sentence(match: re.Match[str]) -> str:
    return match.group(1) + match.group(2).replace(".", "")


def _beats_joined(text: str) -> str:
    return _BEATS.sub(_one_sentence, text) if ". " in text else text


@dataclass(frozen=True)
class Finding:
    flag: str
    level: Level
    quote: str  # the words that matched, for the nurse
    sure: bool = True  # False: the words only suggest the flag (ask its confirm question)


@dataclass(frozen=True)
class _NearRule:
    flag: str
    parts: re.Pattern[str]
    signs: re.Pattern[str]
    window: int
    sure: bool
    any_part: re.Pattern[str]  # the parts and the signs without their groups: is one there at all? (any_of)
    any_sign: re.Pattern[str]


@dataclass(frozen=True)
class _FlagPhrases:
    flag: str
    any_of: re.Pattern[str]  # every phrase of the flag in one pattern: a clause it does not match has none of them
    each: tuple[re.Pattern[str], ...]  # in the flow's order: the first whose match is not negated is quoted


@dataclass(frozen=True)
class _Compiled:
    phrases: tuple[_FlagPhrases, ...]
    near: tuple[_NearRule, ...]
    vocabulary: frozenset[str]
    unless: dict[str, re.Pattern[str]]  # the clause itself says it is a look-alike
    unless_next: dict[str, re.Pattern[str]]  # `next:` patterns: the next clause says so ("..., but 12 years ago")
    # `with next:` patterns: this clause and the next one read together ("out of breath from the stairs, but fine after
    # a minute": the cause in one clause, its end in the next; neither alone says it is a look-alike)
    unless_joined: dict[str, re.Pattern[str]]
    about_now: frozenset[str]  # the flags what is long past does not raise (_about_now), looked up per phrase
    past_counts: frozenset[str]  # flags whose history counts: a look-alike does not hold once the text says it is back
    remembered: dict[tuple[str, bool], tuple[Finding, ...]] = field(default_factory=dict)  # detect's, short texts


_cache: dict[int, tuple[Flow, _Compiled]] = {}
_NEXT = "next:"  # an `unless` pattern for the start of the clause after the finding
_JOINED = "with next:"  # an `unless` pattern for the finding's clause and the next one, joined by a space


def alternatives(patterns: list[str]) -> re.Pattern[str]:
    """One search for many patterns (a near rule's parts, its signs): what flows check compiles too."""
    return compile_once(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


def any_of(patterns: list[str]) -> re.Pattern[str]:
    """One search asking only whether any of the patterns is there (a flag's phrases, its look-alikes): no groups,
    which in an alternation of hundreds were nine tenths of a text's scan (text.without_groups)."""
    return alternatives([without_groups(p) for p in patterns])


def unless_kinds(patterns: list[str]) -> tuple[list[str], list[str], list[str]]:
    """A flag's `unless` patterns by what they read: the finding's clause, the next (`next:`), both (`with next:`)."""
    here = [p for p in patterns if not p.startswith((_NEXT, _JOINED))]
    after = [p[len(_NEXT):].strip() for p in patterns if p.startswith(_NEXT)]
    joined = [p[len(_JOINED):].strip() for p in patterns if p.startswith(_JOINED)]
    return here, after, joined


def _compiled(flow: Flow) -> _Compiled:
    # Flows are immutable and few; keyed by identity because their dict fields are unhashable.
    cached = _cache.get(id(flow))
    if cached is not None and cached[0] is flow:
        return cached[1]
    phrases, near, words = [], [], []
    unless, unless_next, unless_joined = {}, {}, {}
    for flag_id, flag in flow.red_flags.items():
        here, after, joined = unless_kinds([p for ps in flag.unless.values() for p in ps])
        if here:
            unless[flag_id] = any_of(here)
        if after:
            unless_next[flag_id] = any_of(after)
        if joined:
            unless_joined[flag_id] = any_of(joined)
    for flag_id, flag in flow.red_flags.items():
        listed = [phrase for patterns in flag.phrases.values() for phrase in patterns]
        if listed:
            phrases.append(_FlagPhrases(flag_id, any_of(listed),
                                        tuple(compile_once(rf"\b(?:{phrase})\b") for phrase in listed)))
        words += listed
        for rules in flag.near.values():
            for rule in rules:
                near.append(_NearRule(flag_id, alternatives(rule.parts), alternatives(rule.signs), rule.window,
                                      rule.sure, any_of(rule.parts), any_of(rule.signs)))
                words += rule.parts + rule.signs
    about_now = frozenset(flag_id for flag_id in flow.red_flags if _about_now(flow, flag_id))
    past_counts = frozenset(flag_id for flag_id, flag in flow.red_flags.items() if flag.past_counts)
    compiled = _Compiled(tuple(phrases), tuple(near), vocabulary(words), unless, unless_next, unless_joined, about_now,
                         past_counts)
    _cache[id(flow)] = (flow, compiled)
    return compiled


def _words_at(clause_list: list[str], pattern: re.Pattern[str], negatable: bool) -> list[tuple[int, int, str]]:
    """(first word, last word, words) of each match across the clauses, numbered over the whole text. A part (not
    negatable: "no" before it is not its denial) still does not count when its clause ends in a bare negation: "me duele
    la espalda, el pecho nada" names no chest to go with "me duele"."""
    found, offset = [], 0
    for clause in clause_list:
        for match in pattern.finditer(clause):
            if negated(clause, match) if negatable else denied_after(clause, match):
                continue
            start = offset + len(clause[:match.start()].split())
            found.append((start, start + len(match.group(0).split()) - 1, match.group(0)))
        offset += len(clause.split())
    return found


def _near(rule: _NearRule, clause_list: list[str]) -> str | None:
    """A part and a sign within the rule's window (in words, across clauses), the sign not negated in its
    own clause ("no numbness, but my legs..." is no sign); the words, or None."""
    signs = _words_at(clause_list, rule.signs, negatable=True)
    if not signs:
        return None
    for part_start, part_end, part in _words_at(clause_list, rule.parts, negatable=False):
        for sign_start, sign_end, sign in signs:
            gap = sign_start - part_end - 1 if part_start <= sign_start else part_start - sign_end - 1
            if gap < rule.window and (part_start > sign_start or rises_across(rule.parts, rule.signs, part, sign)):
                return f"{part} ... {sign}" if part_start <= sign_start else f"{sign} ... {part}"
    return None


# A past that is back: "years ago i thought about hurting myself, im ok now, but lately the thoughts came back", "hace
# años pensé en matarme, ya estoy bien, pero últimamente volvieron". Said in any later clause, it undoes a look-alike
# of a flag whose history counts (a veto such as "long past and doing well now" reads only two clauses).
_BACK_AGAIN = re.compile(
    r"\b(?:again|lately|recently|these days|(?:came|come|coming|are|is|its|theyre) back|back again|"
    r"(?:thoughts?|urges?|ideas?)( \w+){0,3} (?:now|returned|returning)|"
    r"otra vez|de nuevo|ultimamente|volvi\w*|regres\w*|"
    r"(?:pensamientos?|ideas?|ganas)( \w+){0,3} ahora)\b")


# "As always" no longer holds when a later clause says that it (not something else) is worse now: "i get out of breath
# on stairs but i always have, now it's worse", "ahora está peor" (a two-clause veto cannot see the third clause). Not
# "my back is worse now".
_IT_WORSE_NOW = re.compile(
    r"^(?:and |but |though )?(?:now )?(?:its|it is|thats|it has gotten|its gotten|it got|its getting|it gets) "
    r"(?:\w+ )?(?:worse|harder)\b|^(?:and |but )?now (?:its |it is )?(?:\w+ )?(?:worse|harder)\b|"
    r"^(?:y |pero )?(?:ahora )?(?:esta|se puso|se ha puesto|va) (?:\w+ )?peor\b|"
    r"^(?:y |pero )?ahora (?:esta |es )?(?:\w+ )?peor\b")


def _vetoed(compiled: _Compiled, flag_id: str, originals: list[str], index: int) -> bool:
    """A look-alike said in this clause, (a `next:` pattern) at the start of the next one, or (a `with next:` pattern)
    across this clause and the next; never for a flag whose history counts when a later clause says it is back."""
    here, after = compiled.unless.get(flag_id), compiled.unless_next.get(flag_id)
    joined = compiled.unless_joined.get(flag_id)
    if here is not None and here.search(originals[index]):
        vetoed = True
    elif joined is not None and joined.search(" ".join(originals[index:index + 2])):
        vetoed = not any(_IT_WORSE_NOW.search(c) for c in originals[index + 2:])
    else:
        vetoed = after is not None and index + 1 < len(originals) and after.match(originals[index + 1]) is not None
    if not vetoed:
        return False
    # Only a veto that holds is undone, so the later clauses are read only then.
    return not (flag_id in compiled.past_counts and any(_BACK_AGAIN.search(c) for c in originals[index + 1:]))


def looks_alike(flow: Flow, flag_id: str, text: str) -> bool:
    """A clause of the text is what the flag's own `unless` names as its look-alike (the clause's patterns, not `next:`
    nor `with next:`): "a little constipated" is constipation, the bladder flag's look-alike, not a half-admitted loss
    of control."""
    here = _compiled(flow).unless.get(flag_id)
    return here is not None and any(here.search(clause) for clause in clauses(text))


def _about_now(flow: Flow, flag_id: str) -> bool:
    """An emergency flag is about now: what the text puts long in the past does not count (long_ago.py)."""
    flag = flow.red_flags[flag_id]
    return flag.level.disposition == "emergency" and not flag.past_counts


def _scan(flow: Flow, clause_list: list[str], found: dict[str, Finding], originals: list[str]) -> None:
    compiled = _compiled(flow)
    recent = without_long_ago(clause_list)
    for index, (said, now) in enumerate(zip(clause_list, recent, strict=True)):
        for group in compiled.phrases:
            flag_id = group.flag
            if flag_id in found and found[flag_id].sure:
                continue
            clause = now if flag_id in compiled.about_now else said
            # Hundreds of phrases a flag, few in any clause: one search rules them all out (a text's CPU was
            # mostly this loop, in Python, one phrase at a time); only a clause it matches is looked at closely.
            if group.any_of.search(clause) is None:
                continue
            for pattern in group.each:
                match = next((m for m in pattern.finditer(clause) if rises(m) and not negated(clause, m)), None)
                # the look-alike check only for a phrase that is there
                if match is not None and not _vetoed(compiled, flag_id, originals, index):
                    found[flag_id] = Finding(flag_id, flow.red_flags[flag_id].level, match.group(0))
                    break
    for rule in compiled.near:
        if rule.flag in found and (found[rule.flag].sure or not rule.sure):
            continue
        chosen = recent if rule.flag in compiled.about_now else clause_list
        # Most rules have no sign or no part in the text at all: rule them out before the look-alikes of every clause
        # (dropping a vetoed clause never adds a word), which were most of a text's scan.
        if not any(rule.any_sign.search(c) for c in chosen) or not any(rule.any_part.search(c) for c in chosen):
            continue
        kept = [c for i, c in enumerate(chosen) if not _vetoed(compiled, rule.flag, originals, i)]
        quote = _near(rule, kept)
        if quote is not None:
            found[rule.flag] = Finding(rule.flag, flow.red_flags[rule.flag].level, quote, rule.sure)


def detect(flow: Flow, text: str, *, likely: bool = False) -> list[Finding]:
    """Every red flag the text asserts, most urgent first; each flag once. With likely=True, also the flags
    the words only suggest (Finding.sure is False), for a confirming question."""
    ahead = _read_ahead.get()
    if ahead is not None and ahead[0] is flow and ahead[1] == text:
        return [finding for finding in ahead[2] if likely or finding.sure]
    if len(text) > REMEMBER_UP_TO:
        return _detect(flow, text, likely)
    # Most texts are the same few short answers ("no", "yes", "2"): the same flow and words give the same
    # findings, so they are remembered (per process, per flow: a reloaded flow starts afresh).
    remembered = _compiled(flow).remembered
    key = (text, likely)
    findings = remembered.get(key)
    if findings is None:
        if len(remembered) >= _REMEMBER_AT_MOST:
            remembered.clear()
        findings = remembered[key] = tuple(_detect(flow, text, likely))
    return list(findings)


@contextmanager
def read_ahead(flow: Flow, text: str) -> Iterator[None]:
    """Scan `text` now, and let detect() inside the block answer from it. The findings depend on the flow and
    the words alone, so a webhook reads a patient's text before its transaction: a long text's scan (several
    ms) then runs outside it, not in SQLite's one writer's turn."""
    token = _read_ahead.set((flow, text, tuple(_detect(flow, text, likely=True))))
    try:
        yield
    finally:
        _read_ahead.reset(token)


# (flow, text, its findings with likely=True; the sure ones are those without likely), for this context only
_read_ahead: contextvars.ContextVar[tuple[Flow, str, tuple[Finding, ...]] | None] = contextvars.ContextVar(
    "redflags_read_ahead", default=None)

REMEMBER_UP_TO = 24  # characters: short answers only, so what is kept in memory is a few words each
_REMEMBER_AT_MOST = 2048


def _detect(flow: Flow, text: str, likely: bool) -> list[Finding]:
    found: dict[str, Finding] = {}
    known = _compiled(flow).vocabulary
    clause_list = clauses(_QUESTION_ANSWERED_NO.sub(r" \1", _beats_joined(list_commas_joined(text))))
    _scan(flow, clause_list, found, clause_list)
    corrected = [correct(clause, known) for clause in clause_list]
    if any(c is not None for c in corrected):
        _scan(flow, [c if c is not None else clause for c, clause in zip(corrected, clause_list, strict=True)], found,
              clause_list)
    findings = [f for f in found.values() if likely or f.sure]
    # Stable: at the same level the registry's order holds, and the shared emergencies come first.
    return sorted(findings, key=lambda f: -f.level.rank)


def key_words(flow: Flow) -> frozenset[str]:
    """The words typos.py corrects misspellings toward: the literal words (and stems) of the flow's phrases and near
    rules."""
    return _compiled(flow).vocabulary


def worst(findings: list[Finding]) -> Level | None:
    return most_urgent([f.level for f in findings]) if findings else None
