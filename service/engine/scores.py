"""Two pain scores compared: a red-flag phrase or near rule that names `(?P<was>...)` and `(?P<now>...)` holds only when
the second is higher. "a 3 yesterday and an 8 today" is worse; "a 5/10 yesterday and a 4/10 today" is not, and a regex
cannot compare numbers. A pattern without both names, or a match that does not set both, holds as matched. One phrase
of a flag may use the names (a flag's phrases are also searched as one pattern, where a name can be defined once)."""

from __future__ import annotations

import re


def _higher(was: str | None, now: str | None) -> bool:
    return was is None or now is None or int(now) > int(was)


def rises(match: re.Match[str]) -> bool:
    """A phrase's match: its `now` score above its `was` score."""
    names = match.re.groupindex
    if "was" not in names or "now" not in names:
        return True
    return _higher(match.group("was"), match.group("now"))


def rises_across(parts: re.Pattern[str], signs: re.Pattern[str], part: str, sign: str) -> bool:
    """A near rule's part said before its sign: the sign's `now` score above the part's `was` score
    ("5/10 this morning, 9/10 now")."""
    if "was" not in parts.groupindex or "now" not in signs.groupindex:  # nearly every rule: no search again
        return True
    was, now = parts.search(part), signs.search(sign)
    if was is None or now is None:
        return True
    return _higher(was.group("was"), now.group("now"))
