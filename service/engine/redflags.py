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
from .scores import rises, rises_across
from .text import clauses, compile_once
from .typos import correct, vocabulary

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
# "Without meaning to" is by accident, not a denial: "sin querer le di a mi hijo las medicinas de su abuelo", "without
# realizing it I took double my dose".
_BY_ACCIDENT = (r"(?:sin (?:querer|darme cuenta|darse cuenta|pensar|fijarme|fijarse)"
                r"|without (?:meaning to|realizing|realising|noticing|thinking|knowing))\b")
# "Not gonna lie" is "honestly", not a denial: "not gonna lie ive been cutting again", "no te voy a mentir, me quiero
# morir".
_NOT_LYING = (r"(?:not (?:gonna|going to|to) lie|no (?:lie|lies|joke|kidding|cap)|not (?:kidding|joking)|ngl"
              r"|no (?:te|les|le|os) (?:voy a )?(?:mentir|miento)|no (?:es|te) (?:broma|miento|mentira))\b")
# "De la nada" is "out of nowhere", not a denial: "de la nada sentí como si me rompieran la espalda por dentro".
_OUT_OF_NOWHERE = r"(?<!\bde la )"
_NEGATED_TAIL = re.compile(
    rf"\b(?!{_NO_INTERJECTION}|{_BY_ACCIDENT}|{_NOT_LYING}){_OUT_OF_NOWHERE}(?:{_NEGATION_CUES})\b(?:\s+\w+){{0,3}}\s*$"
    r"|\b(?:dont|do not|didnt|did not) (?:think|believe) (?:that )?(?:i|im|its|it|ive)\b(?:\s+\w+){0,3}\s*$"
    # "I don't think my legs are weak": a doubt about a part, the sign four words on (a near rule's sign, read alone)
    r"|\b(?:dont|do not|didnt|did not) (?:think|believe) (?:that )?(?:my|his|her|their|the)\s+\w+(?:\s+\w+)?"
    r"\s+(?:is|are|was|were|feel|feels|felt|look|looks|seem|seems|got|have|has|went|go)(?:\s+\w+)?\s*$"
)
# A negation does not reach past a new subject ("no numbness and I can't pee", "I don't know why I
# can't walk", "his hand won't grip and his mouth is lopsided"), nor into a finding that opens with a preposition ("no
# numbness after the fall"); nor past Spanish "mejor" ("rather") opening its own clause: "si no puedo ni caminar mejor
# me muero" (the "no" is the condition's).
_SCOPE_BREAK = re.compile(
    r"\b(?:and|or|so|then|because|cause|cuz|since|why|how|when|while|now|also|plus|except|y|pero|porque|mejor)\s+"
    r"(?=(?:i|im|ive|id|my|it|its|me|theres|there|he|hes|she|shes|his|her|they|theyre|their|"
    r"yo|mi|tengo|estoy|estaba|ando|andaba|sigo|se|le)\b)"
)
# Nor past "and the ..." / "y el ..." into a new subject with its own verb: "no fever and the pain keeps climbing",
# "nothing works and the urine just runs out of me", "no tengo fiebre y el dolor sigue subiendo". A noun listed after
# the negation is still denied: "no numbness and the tingling", "no numbness and the tingling in my feet" (the finding
# is the noun itself, alone or followed by a preposition or a conjunction).
_ARTICLE_BREAK = re.compile(
    r"\b(?:and|or|y|o)\s+(?:the|this|that|these|those|el|la|los|las|este|esta|estos|estas|ese|esa)\s+(?=\w)")
_NOUN_GOES_ON = re.compile(
    r"^\w+(?:\s+(?:in|on|of|at|around|down|up|across|and|or|with|from|to|en|de|del|por|y|o|con|a|al)\b.*)?$")
_OPENS_NEW_SCOPE = ("after ", "since ", "from ", "desde que ")
# Nor past a new clause that opens with its own subject and verb, typed with no conjunction or comma: "idk hes not
# peeing hes seizing", "no fever shes shaking all over" (a contracted subject and an -ing verb). Not after a verb of
# thought or saying, where the clause is the negation's object: "i dont think hes seizing", "not sure shes breathing".
_SUBJECT_BREAK = re.compile(
    r"(?<=\w )(?<!\bthink )(?<!\bbelieve )(?<!\bthat )(?<!\bsure )(?<!\bif )(?<!\bsay )(?<!\bsays )(?<!\bsaid )"
    r"(?<!\bknow )(?<!\bguess )(?<!\bfeel )(?<!\bsee )(?<!\bhear )(?<!\bwhether )(?<!\bnot )(?<!\bno )"
    r"(?=(?:hes|shes|theyre|im)\s+\w+ing\b)")
# Nor past a negated condition into its main clause, opened by a subject: "if this doesnt let up i dont want to live".
_CONDITION_BREAK = re.compile(rf"\b(?:if|unless|until|till|once)\s+(?:\w+\s+){{0,4}}?(?:{_NEGATION_CUES})\s+"
                              r"(?:\w+\s+){1,3}?(?=(?:i|im|ill|id|ive|he|hes|she|shes|we|they|theyre)\b)")
# A negation reaches along a list joined by "or" / "nor": "no tightening or leaking or bleeding", "no fever nor
# chills or sweats" (each item one or two words; "and" is left out: "no fever and bleeding" may be two statements).
_NEGATED_LIST_TAIL = re.compile(
    rf"\b(?!{_NO_INTERJECTION})(?:no|not|never|without|nor|denies|deny|free of|negative for|ni|sin)\s+\w+(?:\s+\w+)?"
    r"(?:\s+(?:or|nor|o|ni)\s+\w+(?:\s+\w+)?){0,4}\s+(?:or|nor|o|ni)\s*$")
# A finding that is itself a negative statement ("no puedo orinar", "sin control de la vejiga") is not
# cancelled by a negation before it: Spanish doubles negation ("no sé por qué no puedo caminar").
_SELF_NEGATIVE = re.compile(r"^(?:no|not|sin|ni|nunca|tampoco|ya no)\b")
# Doubt is not denial: "no sé si tengo fiebre", "not sure if it's a fever" go to the nurse. A negation
# after the doubt still counts ("no se, no tengo fiebre" typed without the comma). A bare "no se" right before
# the finding is a negated reflexive verb, not doubt: "mi esposo no se desmayó".
_UNSURE_TAIL = re.compile(rf"\b(?:no lo se|no estoy segur[oa]|not sure|unsure|dont know|do not know)\b"
                          rf"(?:\s+(?!(?:{_NEGATION_CUES})\b)\w+){{0,4}}\s*$"
                          rf"|\bno se\b(?:\s+(?!(?:{_NEGATION_CUES})\b)\w+){{1,4}}\s*$")
# A hypothetical is no sign now: "what if I lose control of my bladder later?", "¿qué pasa si pierdo la fuerza
# en las piernas?". Only the words right after it: "what if it's nothing and I can't pee" keeps its "can't pee"
# (the scope break ends the hypothetical as it ends a negation).
_HYPOTHETICAL_TAIL = re.compile(r"\b(?:what if|what happens if|que pasa si|que tal si)\b(?:\s+\w+){0,3}\s*$")
# "fever: no", "numbness - none": a bare negation right after the finding ends the clause.
_NEGATED_AFTER = re.compile(
    r"^\s*(?:no|none|nope|nada|ninguna|ninguno)(?: tengo| he tenido| hay| i have| i dont| here)?\s*$")
# Spanish doubles its negation: a "nada" after a finding that is itself negative is its object, not a denial ("no sale
# nada", "no siento nada", "ya no puedo hacer nada").
_DOUBLED_NADA = re.compile(r"\b(?:no|ni|nunca|sin|ya no)\b(?:\s+\w+){0,3}\s+nada\s*$")
# "fever? no": a question answered with a bare negation is one clause, so the negation counts.
_QUESTION_ANSWERED_NO = re.compile(r"\?+[ \t]*(no|nope|none|nah|nada|negative)(?=[ \t]*(?:[.;!,\n]|$))",
                                   re.IGNORECASE)
# A sentence said a word or two at a time is one sentence: "just cant. get. air. in.", "im just. really short. of
# breath." (a clause of up to two words, then two or more sentences of one or two words, all read as one clause). Not
# from a negation, nor through one: "no numbness. legs. weak." keeps its stops, so the denial does not reach the words
# after it, and "pain bad. it isnt. cant walk." keeps them too; "no. cant. breathe. at. all." joins from "cant".
_WORD = r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?"  # "i'm" is one word, as normalize() makes it
# the cues as typed, with their apostrophes ("isn't", "don't"): the beats are joined before the text is normalised
_TYPED_CUES = re.sub(r"nt\b", "n['\u2019]?t", _NEGATION_CUES)
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


def _alternatives(patterns: list[str]) -> re.Pattern[str]:
    return compile_once(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


def _compiled(flow: Flow) -> _Compiled:
    # Flows are immutable and few; keyed by identity because their dict fields are unhashable.
    cached = _cache.get(id(flow))
    if cached is not None and cached[0] is flow:
        return cached[1]
    phrases, near, words = [], [], []
    unless, unless_next, unless_joined = {}, {}, {}
    for flag_id, flag in flow.red_flags.items():
        patterns = [p for ps in flag.unless.values() for p in ps]
        here = [p for p in patterns if not p.startswith((_NEXT, _JOINED))]
        after = [p[len(_NEXT):].strip() for p in patterns if p.startswith(_NEXT)]
        joined = [p[len(_JOINED):].strip() for p in patterns if p.startswith(_JOINED)]
        if here:
            unless[flag_id] = _alternatives(here)
        if after:
            unless_next[flag_id] = _alternatives(after)
        if joined:
            unless_joined[flag_id] = _alternatives(joined)
    for flag_id, flag in flow.red_flags.items():
        listed = [phrase for patterns in flag.phrases.values() for phrase in patterns]
        if listed:
            phrases.append(_FlagPhrases(flag_id, _alternatives(listed),
                                        tuple(compile_once(rf"\b(?:{phrase})\b") for phrase in listed)))
        words += listed
        for rules in flag.near.values():
            for rule in rules:
                near.append(_NearRule(flag_id, _alternatives(rule.parts), _alternatives(rule.signs), rule.window,
                                      rule.sure))
                words += rule.parts + rule.signs
    about_now = frozenset(flag_id for flag_id in flow.red_flags if _about_now(flow, flag_id))
    past_counts = frozenset(flag_id for flag_id, flag in flow.red_flags.items() if flag.past_counts)
    compiled = _Compiled(tuple(phrases), tuple(near), vocabulary(words), unless, unless_next, unless_joined, about_now,
                         past_counts)
    _cache[id(flow)] = (flow, compiled)
    return compiled


def _negated(clause: str, match: re.Match[str]) -> bool:
    if _denied_after(clause, match):
        return True
    if match.group(0).startswith(_OPENS_NEW_SCOPE):
        return False
    before = clause[: match.start()]
    # Up to the finding's end: a finding may open with the new subject itself ("porque se me aflojan las piernas").
    breaks = [b for rule in (_SCOPE_BREAK, _SUBJECT_BREAK, _CONDITION_BREAK)
              for b in rule.finditer(clause, 0, match.end()) if b.end() <= match.start()]
    breaks += [b for b in _ARTICLE_BREAK.finditer(clause, 0, match.end()) if b.end() < match.start()
               or b.end() == match.start() and not _NOUN_GOES_ON.match(match.group(0))]
    breaks.sort(key=lambda b: b.end())
    if breaks:
        before = before[breaks[-1].end():]
    if _HYPOTHETICAL_TAIL.search(before):
        return True
    if _SELF_NEGATIVE.match(match.group(0)) or _UNSURE_TAIL.search(before):
        return False
    return bool(_NEGATED_TAIL.search(before) or _NEGATED_LIST_TAIL.search(before))


def _denied_after(clause: str, match: re.Match[str]) -> bool:
    """A bare negation right after the words ends their clause: "el pecho nada", "chest: no" (not "no sale nada")."""
    rest = clause[match.end():]
    return bool(_NEGATED_AFTER.match(rest)) and not _DOUBLED_NADA.search(match.group(0) + rest)


def _words_at(clause_list: list[str], pattern: re.Pattern[str], negatable: bool) -> list[tuple[int, int, str]]:
    """(first word, last word, words) of each match across the clauses, numbered over the whole text. A part (not
    negatable: "no" before it is not its denial) still does not count when its clause ends in a bare negation: "me duele
    la espalda, el pecho nada" names no chest to go with "me duele"."""
    found, offset = [], 0
    for clause in clause_list:
        for match in pattern.finditer(clause):
            if _negated(clause, match) if negatable else _denied_after(clause, match):
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
                match = next((m for m in pattern.finditer(clause) if rises(m) and not _negated(clause, m)), None)
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
        if not any(rule.signs.search(c) for c in chosen) or not any(rule.parts.search(c) for c in chosen):
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
    clause_list = clauses(_QUESTION_ANSWERED_NO.sub(r" \1", _beats_joined(text)))
    _scan(flow, clause_list, found, clause_list)
    corrected = [correct(clause, known) for clause in clause_list]
    if any(c is not None for c in corrected):
        _scan(flow, [c if c is not None else clause for c, clause in zip(corrected, clause_list, strict=True)], found,
              clause_list)
    findings = [f for f in found.values() if likely or f.sure]
    # Stable: at the same level the registry's order holds, and the shared emergencies come first.
    return sorted(findings, key=lambda f: -f.level.rank)


def worst(findings: list[Finding]) -> Level | None:
    return most_urgent([f.level for f in findings]) if findings else None
