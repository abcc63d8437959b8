"""Misspelt key words, read as the word meant: "numbb", "parlyzed", "bladdr", "vomitting".

A word is corrected only when no English or Spanish dictionary knows it and it is close (edit distance)
to a word the flow's red-flag phrases use: "bowl" stays "bowl" and "feel" never becomes "feet". The
dictionaries are pyspellchecker's word lists, without accents as the text is ("analisis" is a word, not
a misspelt "paralisis"); the distance is rapidfuzz's Levenshtein.

A real word one letter from a key verb is read as that verb only where a verb belongs, right after "can't" or
"no puedo", and only when the key verb is far the commoner word: "I can't pea" is "I can't pee", "no puedo
orinal" is "no puedo orinar", but "I can't talk" never becomes "walk".
"""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[a-z]{4,}")
_MIN_LENGTH = 4  # shorter words are too often another word one letter away
_SLOT_MIN_LENGTH = 3  # after "can't" a verb is expected, so "pea" is short enough


@cache
def _words() -> tuple[dict[str, int], frozenset[str]]:
    """Each English or Spanish dictionary word, accents removed as normalize() removes them, with its commonest
    count; and the Spanish ones (texting Spanish's k, verbs with their pronouns). One load of each word list."""
    from spellchecker import SpellChecker

    from .text import strip_accents

    counts: dict[str, int] = {}
    spanish: set[str] = set()
    for language in ("en", "es"):
        for word, count in SpellChecker(language=language, distance=1).word_frequency.items():
            plain = strip_accents(word)
            counts[plain] = max(count, counts.get(plain, 0))
            if language == "es":
                spanish.add(plain)
    return counts, frozenset(spanish)


def _frequencies() -> dict[str, int]:
    return _words()[0]


@cache
def _dictionary() -> frozenset[str]:
    return frozenset(_frequencies())


def _spanish() -> frozenset[str]:
    return _words()[1]


# Texting Spanish writes the c and qu sounds with a k ("kiero", "se kayo de la eskalera", "ke"): an unknown word
# whose k, read that way, gives a Spanish word or a key word is that word (the word list lacks many verb forms).
_K_BEFORE = re.compile(r"k(?=[ei])")


def _spelt_as_said(word: str, whole: frozenset[str]) -> str | None:
    """The word a k spells, for a word no dictionary knows, or a rare one ("kayo", English for a knockout) whose
    reading is far the commoner ("cayo")."""
    if "k" not in word or not word.isalpha():
        return None
    meant = _K_BEFORE.sub("qu", word).replace("k", "c")
    if meant not in _spanish() and meant not in whole:
        return None
    counts = _frequencies()
    return meant if counts.get(meant, 0) >= _COMMONER * counts.get(word, 0) else None


# A Spanish verb with its pronouns joined on ("depilarme", "moverse", "dárselo") is not in the dictionary as it
# stands, but its verb is: it is a real word, not a misspelt key word ("depilarme" is not "debilarme").
_ENCLITIC = re.compile(r"(?<=[aeir])(?:me|te|se|le|les|lo|la|los|las|nos)(?:lo|la|los|las)?$")


def _verb_with_pronouns(word: str) -> bool:
    base = _ENCLITIC.sub("", word)
    return base != word and len(base) >= _MIN_LENGTH and base in _spanish()


# Where a verb belongs: right after a "can't". A real word there one letter from a key verb that is at least
# _COMMONER times as common is a slip for it (the sound-alike "pea" for "pee").
_VERB_SLOT = re.compile(r"(?:^|\b)(?:cant|cannot|can not|couldnt|could not|unable to|not able to|"
                        r"no puedo|no pude|no he podido|no logro|ya no puedo)$")
_COMMONER = 5


def _sound_alike(word: str, before: str, verbs: frozenset[str]) -> str | None:
    if not _VERB_SLOT.search(before):
        return None
    counts = _frequencies()
    # one letter changed, not one added or dropped
    near = [w for w, _, _ in process.extract(word, verbs, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
            if len(w) == len(word)]
    if len(near) != 1:
        return None
    return near[0] if counts.get(near[0], 0) >= _COMMONER * max(counts.get(word, 0), 1) else None


_STEM = re.compile(r"([a-z]{5,})\\w")
# The verbs a pattern puts right after "can't": "(cant|cannot) (pee|urinate)", "no puedo (orinar|mear)";
# kept in the vocabulary as "pee>" (see _sound_alike).
_CANT_THEN = re.compile(r"\b(?:cant|cannot|no puedo|no pude)\b[^()]*\)? ?\(([a-z |]+)\)")
_AFTER_CANT = ">"


def vocabulary(patterns: list[str]) -> frozenset[str]:
    """The literal words of some regular expressions (4 letters or more); a stem written `vomit\\w*` is kept
    as 'vomit*', so a misspelt 'bomitando' is read as 'vomitando'."""
    words = {word for pattern in patterns for word in _WORD.findall(_STEM.sub(" ", pattern).replace("\\w", " "))}
    stems = {f"{stem}*" for pattern in patterns for stem in _STEM.findall(pattern)}
    verbs = {f"{alternative.split()[0]}{_AFTER_CANT}" for pattern in patterns for group in _CANT_THEN.findall(pattern)
             for alternative in group.split("|") if len(alternative.strip()) >= _SLOT_MIN_LENGTH}
    return frozenset(words | stems | verbs)


def _allowed(word: str) -> int:
    return 1 if len(word) <= 7 else 2


def correct(words: str, known: frozenset[str]) -> str | None:
    """`words` (normalised text) with each misspelt key word replaced; None when nothing changed."""
    dictionary = _dictionary()
    whole, verbs, stems = _split(known)
    changed = False
    out = []
    for word in words.split(" "):
        said = _spelt_as_said(word, whole)
        if said is not None:
            out.append(said)
            changed = True
            continue
        if word in dictionary and word not in whole and word not in verbs and len(word) >= _SLOT_MIN_LENGTH \
                and word.isalpha():
            meant = _sound_alike(word, " ".join(out[-3:]), verbs)
            if meant is not None:
                out.append(meant)
                changed = True
                continue
        if len(word) >= _MIN_LENGTH and word not in whole and word not in dictionary and word.isalpha() \
                and not any(word.startswith(stem) for stem in stems) and not _verb_with_pronouns(word):
            best = process.extract(word, whole, scorer=Levenshtein.distance, score_cutoff=_allowed(word), limit=2)
            if best and (len(best) == 1 or best[0][1] < best[1][1]):
                out.append(best[0][0])
                changed = True
                continue
            stem = next((s for s in stems if len(word) > len(s) and Levenshtein.distance(word[:len(s)], s) <= 1), None)
            if stem is not None:
                out.append(stem + word[len(stem):])
                changed = True
                continue
        out.append(word)
    return " ".join(out) if changed else None


@cache
def _split(known: frozenset[str]) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    """The whole key words, the verbs said after "can't", and the stems."""
    return (frozenset(w for w in known if not w.endswith(("*", _AFTER_CANT))),
            frozenset(w[:-1] for w in known if w.endswith(_AFTER_CANT)),
            tuple(sorted((w[:-1] for w in known if w.endswith("*")), key=len, reverse=True)))


def shadowed(entry: str, known: frozenset[str]) -> tuple[str, ...]:
    """The key words whose misspellings a new vocabulary entry may take from them, for a reviewer to check: for a
    stem ("dormi*"), the whole key words it begins ("dormidas": its misspellings that begin "dormi" are no longer
    corrected); for a whole word, the key words at most two letters from it (a misspelling between the two is now
    read as the nearer, or, at a tie, as neither)."""
    whole, _, _ = _split(known)
    if entry.endswith(_AFTER_CANT):
        return ()
    if entry.endswith("*"):
        stem = entry[:-1]
        return tuple(sorted(w for w in whole if w.startswith(stem) and len(w) > len(stem)))
    return tuple(sorted(w for w in whole if w != entry and Levenshtein.distance(entry, w, score_cutoff=2) <= 2))
