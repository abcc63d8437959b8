"""What a first text is about, before the flow's screen starts (the flow's `scope`, universal openings).

Red flags are read before this (step.py): a first text that states an emergency never gets here.
Only a text that positively names something else is taken off the screen; anything unclear goes
through it, as a plain "hi" does.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache

from .flow import Flow
from .text import normalize


class Opening(StrEnum):
    plain = "plain"  # begin the flow's screen
    urgent = "urgent"  # begin it, with the 911 line first
    child = "child"  # the patient is a child: a nurse, not an adult protocol
    admin = "admin"  # an office request: the clinic's number
    other = "other"  # another complaint: ask whether this is about the flow's complaint


@cache
def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in phrases) + r")\b")


def _says(phrases: dict[str, list[str]], words: str) -> bool:
    pattern = _pattern(tuple(p for group in phrases.values() for p in group))
    return bool(pattern and pattern.search(words))


def classify_opening(flow: Flow, text: str) -> Opening:
    words = normalize(text)
    if not words:
        return Opening.plain
    openings, scope = flow.openings, flow.scope
    if scope is not None and scope.population == "adult" and openings.child_outcome and \
            _says(openings.child, words):
        return Opening.child
    about_complaint = scope is not None and _says(scope.complaint, words)
    if not about_complaint and openings.admin_outcome and _says(openings.admin, words):
        return Opening.admin
    if scope is not None and not about_complaint and _says(openings.other_complaint, words):
        return Opening.other
    if _says(openings.urgent, words):
        return Opening.urgent
    return Opening.plain


def urgent_words(flow: Flow, text: str) -> bool:
    """'911', 'emergency', 'please help': the 911 line goes first, whatever else the text is about."""
    return _says(flow.openings.urgent, normalize(text))
