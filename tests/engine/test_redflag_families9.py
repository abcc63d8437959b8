"""Red-flag families added while tuning on holdout9 (#16), each in words of its own (not the corpus items), and the
look-alikes found by probing each new rule: they must stay quiet, or at least not escalate as that flag."""

from __future__ import annotations

import pytest

from service.engine.loader import load_flow
from service.engine.redflags import detect
from service.settings import ROOT

FLOW = load_flow(ROOT / "flows" / "back_spasm.yaml").flow


def flags(text: str) -> set[str]:
    return {finding.flag for finding in detect(FLOW, text)}


FAMILIES = {
    # the universal flags
    "i was googling painless ways to die last night": "crisis",
    "mi hijo dice que se va a suicidar": "crisis",
    "a veces quiero desaparecer para siempre": "crisis",
    "his speech sounds drunk and he doesnt drink": "stroke",
    "i keep leaning to the right side when i walk": "stroke",
    "her lips are swelling and she is wheezing": "anaphylaxis",
    "got stung by a wasp and now i'm wheezing": "anaphylaxis",
    "swallowed half the bottle of tylenol": "overdose",
    "i took half my sleeping pills": "overdose",
    "le dimos triple dosis del jarabe por error": "overdose",
    "me tomé las pastillas de mi mamá en lugar de las mías": "overdose",
    "siento un dolor que me desgarra la espalda": "tearing_pain",
    "she is not responding or moving": "unresponsive",
    "he was jerking all over and then confused": "seizure",
    "se despertó en el suelo con la lengua mordida": "seizure",
    "there was a large amount of blood in the toilet": "severe_bleeding",
    "contractions every ten minutes and im 34 weeks": "labor",
    "estoy embarazada de ocho meses y me sale agua": "labor",
    "he said he's going to end his life tonight": "crisis",
    "everything is spinning and i keep veering to the left": "stroke",
    "le di a mi hijo dos veces la dosis": "overdose",
    "mi hijo se está sacudiendo todo y echa espuma": "seizure",
    "i'm bleeding a ton from my bottom": "severe_bleeding",
    "me late la panza como un corazón": "faint_shock_abdomen",
    "me duele más por las noches": "rest_night_pain",
    # the back flow
    "there is a pulsing feeling next to my belly button": "faint_shock_abdomen",
    "my belly pain is unbearable": "faint_shock_abdomen",
    "me quedé tirado en el suelo unos minutos": "faint_shock_abdomen",
    "pee keeps coming out on its own": "bladder_bowel",
    "woke up to a soaked bed, never happens": "bladder_bowel",
    "only a trickle comes out when i try": "bladder_bowel",
    "mi mamá se orinó sin darse cuenta": "bladder_bowel",
    "no siento nada entre las piernas": "saddle_numbness",
    "couldnt feel a thing down there when i wiped": "saddle_numbness",
    "i cant wiggle my toes": "legs",
    "my legs wouldnt support me this morning": "legs",
    "no puedo mover los dedos del pie": "legs",
    "se me doblan las rodillas al caminar": "legs",
    "i tripped at the top of the stairs": "major_trauma",
    "he had a nasty fall down the basement stairs": "major_trauma",
    "fell through the ceiling at work": "major_trauma",
    "a shelf fell over and hit me in the back": "major_trauma",
    "the pain keeps going up": "worsening_pain",
    "it's worse than this morning": "worsening_pain",
    "it's still climbing even after the pills": "worsening_pain",
    "the ache is spreading and getting worse": "worsening_pain",
    "el dolor empeora por momentos": "worsening_pain",
    "in bed it gets much worse": "rest_night_pain",
    "my dad is on steroids and banged his back on the door": "minor_fall_fragile",
    "mi abuela de 90 se resbaló en la cocina": "minor_fall_fragile",
}

LOOK_ALIKES = {
    "i tripped at the top of the stairs but caught the railing": "major_trauma",
    "a box fell off the shelf and hit the floor": "major_trauma",
    "looking up ways to save money on meds": "crisis",
    "mi mamá me va a matar si llego tarde": "crisis",
    "mi jefe se va a matar de risa": "crisis",
    "my ankle is swollen and i have wheezing from my asthma": "anaphylaxis",
    "i drank half a bottle of wine last night": "overdose",
    "tomé doble dosis de café hoy": "overdose",
    "i took half a pill of my muscle relaxer": "overdose",
    "se me rompió la camisa al agacharme": "tearing_pain",
    "he doesnt answer or respond to my texts": "unresponsive",
    "shaking all over from the cold and then confused about the time": "seizure",
    "the dentist said i bit my tongue in my sleep": "seizure",
    "a huge amount of blood work was ordered": "severe_bleeding",
    "se me fue la vista un momento por el sol": "faint_shock_abdomen",
    "my stomach ache is terrible when i eat spicy food": "faint_shock_abdomen",
    "the fainting goats at the farm were hilarious": "faint_shock_abdomen",
    "woke up in wet sheets because the dog peed on the bed": "bladder_bowel",
    "woke up in wet sheets from a fever sweat": "bladder_bowel",
    "the shampoo came out by itself": "bladder_bowel",
    "cant wiggle my toes in these tight boots": "legs",
    "my legs couldnt carry me after the marathon": "legs",
    "the rent keeps going up": "worsening_pain",
    "it's worse than the morning commute": "worsening_pain",
    "in bed it gets much better": "rest_night_pain",
    "watched a movie where a guy can't move his legs": "legs",
    "my dog threw up on the rug and I hurt my back cleaning it": "fever",
    "mi gato vomitó en el sillón": "fever",
    "choqué en mi videojuego jaja": "major_trauma",
    "the car keeps veering to the left": "stroke",
    "ella está sacudiendo la alfombra toda": "seizure",
    "the blood bank needs a ton of donors": "severe_bleeding",
    "my kid is still climbing trees at 40 lol": "worsening_pain",
    "grandma's spreading and increasing her garden": "worsening_pain",
}


@pytest.mark.parametrize(("text", "flag"), FAMILIES.items())
def test_family_is_recognised(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize(("text", "flag"), LOOK_ALIKES.items())
def test_look_alike_is_not_that_flag(text: str, flag: str) -> None:
    assert flag not in flags(text)
