"""Normalising what people type or say, so one set of patterns serves every phrasing."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

_THUMBS = {"\U0001f44d": " yes ", "\U0001f44e": " no "}  # a thumbs-up is a common SMS "yes"
_APOSTROPHES = re.compile(r"[\u2018\u2019\u02bc`´']")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@cache
def compile_once(pattern: str) -> re.Pattern[str]:
    """re.compile, remembered for the process. The flows hold more patterns than re's own cache (512), so
    each new app (every test, every flow reload) compiled them all again: 2 of create_app's 2.7 s."""
    return re.compile(pattern)


def without_groups(pattern: str) -> str:
    """The same pattern with every capturing group made non-capturing: it matches the same texts.

    A search that only asks whether any of hundreds of phrases is there needs no groups, and they cost: in a big
    alternation, re saves and restores every group's mark at each branch it tries (ten times the CPU, measured).
    Patterns with back-references cannot be rewritten so: flows check rejects them (lint_patterns.py).
    """
    out, index, in_class = [], 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":  # an escape, in a class or not, is two characters
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            closing = 2 if pattern.startswith("^]", index + 1) else 1 if pattern.startswith("]", index + 1) else 0
            out.append(pattern[index:index + 1 + closing])  # a "]" first in a class is a member, not its end
            index += 1 + closing
            continue
        elif pattern.startswith("(?P<", index):
            out.append("(?:")
            index = pattern.index(">", index) + 1
            continue
        elif char == "(" and not pattern.startswith("(?", index):
            out.append("(?:")
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; "Can't!!" -> "cant", "sí" -> "si".

    Apostrophes are dropped rather than split on, so patterns say "cant", "dont", "didnt".
    """
    for emoji, word in _THUMBS.items():
        text = text.replace(emoji, word)
    text = strip_accents(text).lower()
    text = _APOSTROPHES.sub("", text)
    return _NOT_WORD.sub(" ", text).strip()


def clean_for_storage(text: str, limit: int = 2000) -> str:
    """Drop control characters and cap the length; keeps what the patient wrote otherwise."""
    return _CONTROL.sub("", text)[:limit]


def clauses(text: str) -> list[str]:
    """Split raw text where negation stops applying: sentence ends, commas, 'but'. Not inside a number
    ("101.8", "38,5"): a temperature is one word."""
    parts = re.split(r"(?:(?<!\d)[.,]|[.,](?!\d)|[;!?\n])+|\bbut\b|\bpero\b|\bthough\b", strip_accents(text).lower())
    return [p for p in (normalize(part) for part in parts) if p]
