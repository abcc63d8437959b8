"""Where a negation's scope ends (#16): a new clause typed with its own subject and verb and no comma ("idk hes not
peeing hes seizing"), Spanish "desde que" as English "since", and a list joined by "or" that the negation reaches."""

import pytest

from tests.engine.test_redflags import flags

ENDS_SCOPE = {
    "idk hes not peeing hes SEIZING right now": "seizure",
    "she isnt talking shes seizing on the floor": "seizure",
    "no fever im shaking all over and her eyes are rolling back": "seizure",
    "no me duele la espalda desde que se me duermen las piernas": "legs",
}

STILL_DENIED = {
    "i dont think hes seizing": "seizure",
    "no hes not seizing": "seizure",
    "22 weeks, no tightening or leaking or bleeding": "labor",
    "no numbness or tingling or weakness in my legs": "legs",
}


@pytest.mark.parametrize(("text", "flag"), ENDS_SCOPE.items())
def test_new_clause_ends_the_negation(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize(("text", "flag"), STILL_DENIED.items())
def test_negation_still_denies(text: str, flag: str) -> None:
    assert flag not in flags(text)
