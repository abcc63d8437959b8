"""A finding put long in the past (service/engine/long_ago.py) does not escalate an emergency flag; the present
said beside it still does, and so does a past suicide attempt (crisis: `past_counts`)."""

from __future__ import annotations

import pytest

from service.engine.loader import load_flow
from service.engine.long_ago import without_long_ago
from service.engine.redflags import detect
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


def flags(text: str) -> set[str]:
    return {finding.flag for finding in detect(FLOW, text)}


LONG_AGO = [
    "had a seizure as a baby with a high fever, none since, my back is the only issue",
    "a mi compadre le dio un infarto hace diez años, por eso me preocupo",
    "my grandpa had a stroke back in 2009 so I worry",
    "I was in a car accident back in 1998, my back's been cranky on and off since",
    "mi papá tuvo convulsiones de niño, yo solo tengo dolor de espalda",
    "when I was a kid I passed out once at church",
    "tuve un derrame hace unos años, ya estoy bien",
    "years ago I had a heart attack",
    "I was in a car accident back in 1998 my back has been cranky since",
    # an age said in Spanish, as "when I was 10"
    "me caí de la bici cuando tenía 10 años, esto es del gimnasio",
]

NOW_BESIDE_THE_PAST = {
    "I had a heart attack 5 years ago and now my chest hurts again": "chest_pain",
    "tuve un infarto hace 5 años y ahora me duele el pecho otra vez": "chest_pain",
    "he had a seizure as a kid and is seizing right now": "seizure",
    "my dad had a stroke back in 2015 and now his face is drooping": "stroke",
    "had back surgery 3 years ago and I cant pee since yesterday": "bladder_bowel",
    "me operaron hace 2 años y no puedo orinar": "bladder_bowel",
    "I was in a car accident years ago and now I cant feel my legs": "legs",
    # the past happening again, or a new statement typed straight after it
    "had a seizure a month ago and another one right now": "seizure",
    "I had a seizure a month ago. It's happening again": "seizure",
    "my mom had a stroke years ago her face is drooping": "stroke",
    # still going on is not the past
    "desde hace dos años tengo el pecho apretado": "chest_pain",
    "my legs have been numb since 2 years ago": "legs",
    # a past attempt counts (C-SSRS asks about a lifetime)
    "I tried to kill myself 2 years ago": "crisis",
    "intenté suicidarme hace años": "crisis",
}


@pytest.mark.parametrize("text", LONG_AGO)
def test_long_ago_is_no_emergency_now(text: str) -> None:
    found = {f for f in flags(text) if FLOW.red_flags[f].level.disposition == "emergency"}
    assert not found, found


@pytest.mark.parametrize(("text", "flag"), NOW_BESIDE_THE_PAST.items())
def test_the_present_beside_the_past_still_counts(text: str, flag: str) -> None:
    assert flag in flags(text)


def test_blanking_keeps_the_word_count_and_the_other_stretch() -> None:
    [clause] = without_long_ago(["i had surgery 3 years ago and i cant pee"])
    assert len(clause.split()) == 10
    assert clause.endswith("and i cant pee")
    assert without_long_ago(["had a seizure as a baby", "none since"])[0] == "- - - - - -"
    # "nada más" (only) after a finding is no "none since"
    assert without_long_ago(["tengo dolor en el pecho", "nada mas"])[0] == "tengo dolor en el pecho"
