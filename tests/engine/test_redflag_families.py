"""Red-flag families added while tuning on holdout8 (#16), each in words of its own (not the corpus items), and the
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
    # overdose: more than prescribed, double the dose, someone else's medicine, a small child at the pills
    "I took way more gabapentin than prescribed": "overdose",
    "i took double the dose my doctor said by mistake": "overdose",
    "I took my husband's blood pressure pills instead of mine": "overdose",
    "my 2 year old got hold of grandmas heart pills": "overdose",
    "swallowed the rest of the bottle of muscle relaxers": "overdose",
    "me tomé el doble de la dosis de tramadol": "overdose",
    "me tomé lo que quedaba del frasco de relajantes": "overdose",
    "mi nieto se estaba comiendo mis pastillas": "overdose",
    "el bebé agarró mis pastillas y faltan algunas": "overdose",
    "i gave my daughter twice her dose of tylenol": "overdose",
    "le di a mi hijo el doble de jarabe": "overdose",
    "i want to take myself out of the picture for good": "crisis",
    "i have nothing left to live for": "crisis",
    "quisiera dormirme para siempre": "crisis",
    "no tengo nada por qué vivir": "crisis",
    "I'm wheezing and can barely talk": "breathing",
    "i think i took to many pills": "overdose",
    "he cant move his right side": "stroke",
    "mi papá no puede mover el lado derecho": "stroke",
    "my stomach is rock hard and hurts so much": "faint_shock_abdomen",
    "i was in a bad wreck yesterday": "major_trauma",
    "choqué con la moto ayer": "major_trauma",
    "me pegó una vaca": "major_trauma",
    "no siento el asiento del baño": "saddle_numbness",
    "its the worst pain of my life and came on suddenly": "tearing_pain",
    "my grandpa is 88 and bumped his back on the counter": "minor_fall_fragile",
    "my mom is on prednisone and fell off a chair": "minor_fall_fragile",
    "me golpeé la espalda con la mesa y tengo 85 años": "minor_fall_fragile",
    "my back wakes me up every night": "rest_night_pain",
    "el dolor no me deja acostarme": "rest_night_pain",
    "me despierto cada noche por el dolor": "rest_night_pain",
    "me silba el pecho y apenas puedo hablar": "breathing",
    "quiero quitarme de en medio": "crisis",
    # the chest, the throat, breathing, someone not answering
    "my chest feels like someone is standing on it": "chest_pain",
    "respiro muy rápido y no me alcanza el aire": "breathing",
    "siento como un elefante sentado encima": "chest_pain",
    "hives all over and my throat is getting tight": "anaphylaxis",
    "no puedo decir ni una frase completa": "breathing",
    "I can't get him to respond, I shook him hard": "unresponsive",
    "no logro que responda": "unresponsive",
    "like my insides were tearing apart": "tearing_pain",
    # the back flow
    "I can feel a pulse in my belly near the belly button": "faint_shock_abdomen",
    "siento un latido en la barriga": "faint_shock_abdomen",
    "me he desvanecido en la cocina": "faint_shock_abdomen",
    "llevo 12 horas sin orinar": "bladder_bowel",
    "la pierna no me hace caso": "legs",
    "my foot wont obey me, I have to drag it": "legs",
    "una vaca me pateó la espalda": "major_trauma",
    "a horse kicked me in the back": "major_trauma",
    "tengo 39.2 en el termómetro": "fever",
    "grandma slipped in the shower, she's 79": "minor_fall_fragile",
    "me caí en el baño, tengo 82 años": "minor_fall_fragile",
    "tengo que dormir sentada en el sillón": "rest_night_pain",
    "de noche el dolor es peor": "rest_night_pain",
    "tengo una masa que palpita en el vientre": "faint_shock_abdomen",
    "lying flat makes my back hurt way worse": "rest_night_pain",
}

LOOK_ALIKES = {
    "I took way more walks than prescribed by my PT": "overdose",
    "I took my mom's car instead of mine": "overdose",
    "my toddler was chewing on the bottle cap": "overdose",
    "mi hijo tenía mis pastillas en la mano, se las quité": "overdose",
    "an elephant sitting on me would feel lighter than this workload": "chest_pain",
    "my throat gets tight when i'm nervous about presentations": "anaphylaxis",
    "no puedo decir una palabra en inglés": "breathing",
    "i cant get him to respond to my texts": "unresponsive",
    "i cant get my son to wake up for school": "unresponsive",
    "I feel my heartbeat in my stomach after running": "faint_shock_abdomen",
    "i was out for a few minutes getting coffee": "faint_shock_abdomen",
    "la pierna la tengo como muerta de cansancio": "legs",
    "the phone fell off the table, my back hurts from the mattress": "major_trauma",
    "vi un video de un choque en la carretera": "major_trauma",
    "the fever broke yesterday": "fever",
    "the wound is hot to the touch": "fever",
    "el café está caliente al tacto": "fever",
    "I'm 65 and I fell asleep on the couch": "minor_fall_fragile",
    "take myself out of the group chat": "crisis",
    "quítate de en medio que no veo la tele": "crisis",
    "no me alcanza el dinero": "breathing",
    "me tomé el doble de café": "overdose",
    "en la noche el tráfico es peor": "rest_night_pain",
    "no puedo hacer pis delante de otros": "bladder_bowel",
    "I almost passed out from laughing": "faint_shock_abdomen",
    "en la tele vi a un señor desmayarse": "faint_shock_abdomen",
    "la vaca me pegó un susto": "major_trauma",
    "no puedo mover el lado derecho del sofá": "stroke",
    "I went to many places today": "overdose",
    "my dog wakes me up at 5": "rest_night_pain",
    "my stomach hurts so much when i laugh lol": "faint_shock_abdomen",
    "mi perro se desmayó del calor": "faint_shock_abdomen",
    "my car got rear ended, I wasn't in it": "major_trauma",
    "se me cayó el celular por las escaleras": "major_trauma",
    "my dog overdosed on treats lol": "overdose",
    "my legs are dead after the hike": "legs",
    "i had a fever last week but its gone now": "fever",
    "he wont wake up for work, he's a heavy sleeper": "unresponsive",
    "i could sleep forever this weekend lol": "crisis",
    "ojalá pudiera dormir para siempre los domingos": "crisis",
    "i'm 70 and slipped a disc": "minor_fall_fragile",
}


@pytest.mark.parametrize(("text", "flag"), FAMILIES.items())
def test_family_is_recognised(text: str, flag: str) -> None:
    assert flag in flags(text)


@pytest.mark.parametrize(("text", "flag"), LOOK_ALIKES.items())
def test_look_alike_is_not_that_flag(text: str, flag: str) -> None:
    assert flag not in flags(text)
