"""A text's red flags read ahead (redflags.read_ahead) are what detect() finds, sure or likely, for that flow
and those words only."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.engine import redflags
from service.engine.loader import load_flow

FLOWS = Path(__file__).resolve().parents[2] / "flows"
TEXTS = ["hi my back went into spasm lifting a box", "my bottom has been numb since yesterday, i didnt want to say",
         "no fever but my legs keep giving out on the stairs", "se me durmió la pierna en el sillón y ya se me quitó",
         "my husband is grey and sweaty and says his chest is tight"]


@pytest.fixture(scope="module")
def flow():  # type: ignore[no-untyped-def]
    return load_flow(FLOWS / "back_spasm.yaml").flow


@pytest.mark.parametrize("text", TEXTS)
def test_read_ahead_answers_as_detect_would(flow, text: str) -> None:  # type: ignore[no-untyped-def]
    sure, likely = redflags.detect(flow, text), redflags.detect(flow, text, likely=True)
    with redflags.read_ahead(flow, text):
        assert redflags.detect(flow, text) == sure
        assert redflags.detect(flow, text, likely=True) == likely


def test_read_ahead_is_for_its_own_words_and_flow_only(flow, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with redflags.read_ahead(flow, TEXTS[1]):
        scanned: list[str] = []
        real = redflags._detect
        monkeypatch.setattr(redflags, "_detect", lambda f, text, likely: scanned.append(text) or real(f, text, likely))
        assert [f.flag for f in redflags.detect(flow, TEXTS[1])] == ["saddle_numbness"]
        assert scanned == []  # answered from what was read ahead
        other = load_flow(FLOWS / "back_spasm.yaml").flow  # the same file loaded again: another flow object
        redflags.detect(other, TEXTS[1])
        redflags.detect(flow, TEXTS[2])
        assert scanned == [TEXTS[1], TEXTS[2]]  # another flow, other words: scanned as ever
    assert redflags._read_ahead.get() is None
