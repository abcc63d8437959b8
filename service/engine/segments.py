"""How many SMS segments a text takes, exactly as a carrier bills it. Pure: no flow, no I/O.

A text is GSM-7 when every character is in the GSM 03.38 basic set or its extension table (the
`gsm0338` codec's table, 3GPP TS 23.038: an extension character such as € [ ] { } ^ ~ \\ | is an
escape and a septet, so it counts 2); otherwise the whole text is UCS-2, counted in UTF-16 code
units (an emoji outside the Basic Multilingual Plane is a surrogate pair: 2). Spanish letters such
as á í ó ú ¿ are not in the basic set (ñ, é, ¡ and ¿ are), so one of them makes the whole text UCS-2.

One segment holds 160 septets or 70 units; a longer text is sent in parts of 153 septets or 67 units
(the rest is the header that joins them on the phone), and neither an escape pair nor a surrogate
pair is split across two parts. National language shift tables are not used: US carriers and
Twilio send the basic set. Twilio's optional Smart Encoding (curly quotes to straight ones) is not
assumed either: a curly quote counts as UCS-2, as it does when that setting is off.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7, UCS2 = "GSM-7", "UCS-2"
SINGLE = {GSM7: 160, UCS2: 70}  # a text that fits one segment
PART = {GSM7: 153, UCS2: 67}  # each part of a longer text
JOIN = "\n\n"  # between two replies sent as one text


@dataclass(frozen=True)
class Count:
    encoding: str  # GSM-7 or UCS-2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int

    def __str__(self) -> str:
        return f"{self.encoding} {self.units} -> {self.segments}"


def _widths(text: str) -> tuple[str, list[int]]:
    """The encoding, and each character's width in it (septets, or UTF-16 units)."""
    widths = [_gsm_width(ch) for ch in text]
    if 0 not in widths:
        return GSM7, widths
    return UCS2, [len(ch.encode("utf-16-le")) // 2 for ch in text]


@cache
def _gsm_width(ch: str) -> int:
    """Septets a character takes in GSM-7 (0: not in it). Remembered per character: the codec, called a
    character at a time, was a sixth of a webhook's CPU (every reply is counted, bench/sms_cost.py)."""
    try:
        return len(ch.encode("gsm03.38"))
    except UnicodeEncodeError:
        return 0


def _parts(widths: list[int], size: int) -> int:
    """Parts of `size` filled in order; a character that does not fit whole starts the next part."""
    parts, used = 1, 0
    for width in widths:
        if used + width > size:
            parts, used = parts + 1, 0
        used += width
    return parts


def first_outside_gsm7(text: str) -> str | None:
    """The first character that makes a text UCS-2, if any."""
    return next((ch for ch in text if _gsm_width(ch) == 0), None)


def count(text: str) -> Count:
    encoding, widths = _widths(text)
    units = sum(widths)
    if units <= SINGLE[encoding]:
        return Count(encoding, units, 1)
    return Count(encoding, units, _parts(widths, PART[encoding]))


def pack(bodies: list[str], max_segments: int) -> list[str]:
    """Replies into as few texts as keep each within `max_segments`, in order: each reply is joined to
    the text before it while the joined text still fits. A reply too long on its own is split at its
    blank lines (paragraphs), packed the same way; a paragraph still too long goes alone."""
    texts: list[str] = []
    for part in _paragraphs(bodies, max_segments):
        if texts and count(texts[-1] + JOIN + part).segments <= max_segments:
            texts[-1] += JOIN + part
        else:
            texts.append(part)
    return texts


def _paragraphs(bodies: list[str], max_segments: int) -> Iterator[str]:
    for body in bodies:
        if count(body).segments <= max_segments:
            yield body  # never split what fits
        else:
            yield from (p for p in body.split(JOIN) if p.strip())
