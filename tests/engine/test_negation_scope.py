"""Where a negation's scope ends (#16): a new clause typed with its own subject and verb and no comma ("idk hes not
peeing hes seizing"), Spanish "desde que" as English "since", and a list joined by "or" that the negation reaches; a
negated condition that ends where its main clause opens with a subject ("if this doesnt let up i dont want to live"),
and Spanish "mejor" opening its own clause ("si no puedo caminar mejor me quito la vida")."""

import pytest

from tests.engine.test_redflags import flags

ENDS_SCOPE = {
    "idk hes not peeing hes SEIZING right now": "seizure",
    "she isnt talking shes seizing on the floor": "seizure",
    "no fever im shaking all over and her eyes are rolling back": "seizure",
    "no me duele la espalda desde que se me duermen las piernas": "legs",
    # holdout22: a negation inside a condition ends where the main clause opens with its own subject
    "if this pain doesnt ease up i dont want to wake up tomorrow": "crisis",
    "if the meds dont work he cant breathe": "breathing",
    # holdout23: the main clause's subject contracted with will or would ("she'll" read "shell", "he'd" read "hed")
    "if the pain doesnt stop she'll end it": "crisis",
    "if this doesnt get better he'll kill himself": "crisis",
    "if they dont help her she'd kill herself": "crisis",
    # Spanish "mejor" ("rather") opens its own clause: the "no" is the condition's (holdout20-21)
    "si no se me quita ni con pastillas mejor me mato": "crisis",
    "si no voy a poder caminar mejor me quito la vida": "crisis",
}

STILL_DENIED = {
    "i dont think hes seizing": "seizure",
    "no hes not seizing": "seizure",
    "22 weeks, no tightening or leaking or bleeding": "labor",
    "no numbness or tingling or weakness in my legs": "legs",
    # holdout22: the finding inside the negated condition is still denied
    "if she doesnt have a seizure tonight shes fine": "seizure",
    "if he doesnt have a seizure tonight he'll be fine": "seizure",
    "no chest pain if thats what youre asking": "chest_pain",
    "no me siento mejor pero no me duele el pecho": "chest_pain",
    "no, mejor no me quiero morir, solo quiero dormir": "crisis",
}


@pytest.mark.parametrize(("text", "flag"), ENDS_SCOPE.items())
def test_new_clause_ends_the_negation(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize(("text", "flag"), STILL_DENIED.items())
def test_negation_still_denies(text: str, flag: str) -> None:
    assert flag not in flags(text)
