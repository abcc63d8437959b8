"""SMS segments counted exactly (service/engine/segments.py): GSM-7 with its extension table, else UCS-2;
160/70 in one segment, 153/67 a segment beyond, an escape or a surrogate pair never split across two."""

from __future__ import annotations

import pytest

from service.engine.segments import GSM7, UCS2, count, first_outside_gsm7, pack

EMOJI = "\U0001f600"  # outside the Basic Multilingual Plane: a surrogate pair, 2 UTF-16 units

CASES = [
    # (text, encoding, units, segments)
    ("", GSM7, 0, 1),
    ("Reply YES or NO.", GSM7, 16, 1),
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("a" * 459, GSM7, 459, 3),
    ("a" * 460, GSM7, 460, 4),
    # the extension table: an escape and a septet each
    ("€", GSM7, 2, 1),
    ("[]{}^~\\|", GSM7, 16, 1),
    ("a" * 158 + "€", GSM7, 160, 1),
    ("a" * 159 + "€", GSM7, 161, 2),
    # an escape pair is not split: 152 fit the first part, the € opens the second
    ("a" * 152 + "€" + "a" * 151, GSM7, 305, 2),
    ("a" * 152 + "€" + "a" * 152, GSM7, 306, 3),
    # GSM 03.38's own accented letters and Spanish punctuation stay GSM-7
    ("ñ Ñ é É ü ¿ ¡ à è ì ò ù Ç", GSM7, 25, 1),
    ("Para español, responda ESPAÑOL", GSM7, 30, 1),
    ("line\nbreak", GSM7, 10, 1),
    # one letter outside the alphabet makes the whole text UCS-2
    ("Responda SÍ o NO.", UCS2, 17, 1),
    ("¿Cómo se siente?", UCS2, 16, 1),
    ("á" * 70, UCS2, 70, 1),
    ("á" * 71, UCS2, 71, 2),
    ("a" * 69 + "í", UCS2, 70, 1),
    ("a" * 70 + "í", UCS2, 71, 2),
    ("á" * 134, UCS2, 134, 2),
    ("á" * 135, UCS2, 135, 3),
    ("á" * 201, UCS2, 201, 3),
    ("á" * 202, UCS2, 202, 4),
    ("ç", UCS2, 1, 1),  # only the capital Ç is in the basic set
    ("don’t", UCS2, 5, 1),  # a curly apostrophe (no Smart Encoding assumed)
    # emoji: 2 units each, and the pair is never split
    (EMOJI, UCS2, 2, 1),
    ("a" * 68 + EMOJI, UCS2, 70, 1),
    ("a" * 69 + EMOJI, UCS2, 71, 2),
    ("a" * 66 + EMOJI + "a" * 65, UCS2, 133, 2),
    ("a" * 66 + EMOJI + "a" * 66, UCS2, 134, 3),
]


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), CASES,
                         ids=[f"{c[1]}-{c[2]}-{c[3]}-{c[0][:12]!r}" for c in CASES])
def test_count(text: str, encoding: str, units: int, segments: int) -> None:
    got = count(text)
    assert (got.encoding, got.units, got.segments) == (encoding, units, segments)


def test_the_letter_that_makes_a_text_ucs2_is_named() -> None:
    assert first_outside_gsm7("Línea de enfermería") == "í"
    assert first_outside_gsm7("Para español") is None


def test_pack_joins_replies_while_they_fit() -> None:
    short = ["a" * 100, "b" * 100, "c" * 100, "d" * 200]
    assert pack(short, 3) == ["a" * 100 + "\n\n" + "b" * 100 + "\n\n" + "c" * 100, "d" * 200]
    assert pack(short, 1) == short  # one segment each: nothing joined
    assert pack([], 3) == []


def test_pack_counts_the_joined_text_in_its_encoding() -> None:
    # Two GSM-7 replies would fit one 2-segment text; a Spanish accent in one makes the whole text UCS-2.
    english, spanish = "a" * 100, "á" * 60
    assert pack([english, english], 2) == [english + "\n\n" + english]
    assert pack([english, spanish], 2) == [english, spanish]


def test_pack_splits_a_long_reply_at_its_blank_lines_and_keeps_the_order() -> None:
    advice = "\n\n".join(["head", "x" * 300, "y" * 300, "z" * 100, "foot"])
    texts = pack([advice], 3)
    assert texts == ["head\n\n" + "x" * 300, "y" * 300 + "\n\n" + "z" * 100 + "\n\nfoot"]
    assert "\n\n".join(texts) == advice and all(count(t).segments <= 3 for t in texts)
    assert pack([advice], 10) == [advice]  # what fits is never split


def test_a_paragraph_longer_than_the_budget_goes_alone() -> None:
    long = "w" * 600  # 4 segments, no blank line to split at
    assert pack(["hi", long, "bye"], 3) == ["hi", long, "bye"]
