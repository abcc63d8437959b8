"""Misspelt key words, read as the word meant: "numbb", "parlyzed", "bladdr", "vomitting".

A word is corrected only when no English or Spanish dictionary knows it and it is close (edit distance)
to a word the flow's red-flag phrases use: "bowl" stays "bowl" and "feel" never becomes "feet". The
dictionaries are pyspellchecker's word lists; the distance is rapidfuzz's Levenshtein.
"""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

_WORD = re.compile(r"[a-z]{4,}")
_MIN_LENGTH = 4  # shorter words are too often another word one letter away


@cache
def _dictionary() -> frozenset[str]:
    from spellchecker import SpellChecker

    words: set[str] = set()
    for language in ("en", "es"):
        words |= set(SpellChecker(language=language, distance=1).word_frequency.keys())
    return frozenset(words)


_STEM = re.compile(r"([a-z]{5,})\\w")


def vocabulary(patterns: list[str]) -> frozenset[str]:
    """The literal words of some regular expressions (4 letters or more); a stem written `vomit\\w*` is kept
    as 'vomit*', so a misspelt 'bomitando' is read as 'vomitando'."""
    words = {word for pattern in patterns for word in _WORD.findall(_STEM.sub(" ", pattern).replace("\\w", " "))}
    stems = {f"{stem}*" for pattern in patterns for stem in _STEM.findall(pattern)}
    return frozenset(words | stems)


def _allowed(word: str) -> int:
    return 1 if len(word) <= 7 else 2


def correct(words: str, known: frozenset[str]) -> str | None:
    """`words` (normalised text) with each misspelt key word replaced; None when nothing changed."""
    dictionary = _dictionary()
    whole, stems = _split(known)
    changed = False
    out = []
    for word in words.split(" "):
        if len(word) >= _MIN_LENGTH and word not in whole and word not in dictionary and word.isalpha() \
                and not any(word.startswith(stem) for stem in stems):
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
def _split(known: frozenset[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    return (frozenset(w for w in known if not w.endswith("*")),
            tuple(sorted((w[:-1] for w in known if w.endswith("*")), key=len, reverse=True)))
