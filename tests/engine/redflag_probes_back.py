"""More red-flag probe cases, for the back flow's own flags (tests/engine/test_redflag_families.py plays them):
families of wording in a tuner's own words (not the corpus items), and look-alikes that must not be that flag.
Kept apart from that file's lists so that two engineers tuning the universal and the back flags at once
edit different files."""

from __future__ import annotations

BACK_FAMILIES: dict[str, str] = {
    # found while tuning on holdout11: belly pain said with a superlative or "brutal"
    "my stomach pain is brutal and the back too": "faint_shock_abdomen",
    "me dio un dolor de barriga fuertísimo": "faint_shock_abdomen",
    # no urine for hours said of another, "hold my water", urine that runs out, nothing on the toilet
    "she hasn't passed urine all day": "bladder_bowel",
    "he has not passed any water since breakfast": "bladder_bowel",
    "I can't hold my water anymore": "bladder_bowel",
    "the urine just pours out of me": "bladder_bowel",
    "stuck on the toilet for ages and nothing will come out": "bladder_bowel",
    "mi papá no ha podido hacer pipí desde anoche": "bladder_bowel",
    "no aguanto el orín": "bladder_bowel",
    # the part one sits on, "no tengo sensibilidad"
    "the area of me that sits on the chair feels numb": "saddle_numbness",
    "no tengo sensibilidad en la entrepierna": "saddle_numbness",
    # both legs with no strength, "both of them", legs without strength, not standing
    "both legs have no strength": "legs",
    "my feet, both of them went numb this morning": "legs",
    "tengo las piernas debilísimas": "legs",
    "no me sostengo en pie": "legs",
    "mis pies no tienen fuerza": "legs",
    # running hot, "39 y pico"
    "I'm running hot and shivery": "fever",
    "tengo 39 y pico": "fever",
    # the verb first, the vehicle after
    "me atropelló un camión": "major_trauma",
    # worse every few hours, grown every day, "ir a peor", yesterday a 4 and today an 8
    "worse every couple of hours": "worsening_pain",
    "the ache has grown every day": "worsening_pain",
    "esto ha ido a peor": "worsening_pain",
    "ayer estaba en un 4 y hoy es un 8": "worsening_pain",
    "la molestia sube cada día": "worsening_pain",
    # the moment one lies down, in bed it hurts so much, mainly sore lying down, the spasm that wakes
    "as soon as I lie down my back throbs": "rest_night_pain",
    "in bed it hurts so much": "rest_night_pain",
    "it's mainly sore when I'm lying down": "rest_night_pain",
    "el espasmo me despierta": "rest_night_pain",
    # fragile bones said as a sentence, a minor slip at 77, "abuelito", "me di un golpecito" on steroids
    "my bones are fragile": "minor_fall_fragile",
    "had a minor slip on the porch, I'm 77": "minor_fall_fragile",
    "mi abuelito de 88 se resbaló en la cocina": "minor_fall_fragile",
    "me di un golpecito con la puerta, tomo prednisona": "minor_fall_fragile",
}

BACK_LOOK_ALIKES: dict[str, str] = {
    # found by probing the holdout11 rules
    "the movie was brutal but my stomach is fine": "faint_shock_abdomen",
    "my wife is passed out sound asleep on the sofa": "faint_shock_abdomen",
    "the pee runs out of me when I laugh too hard": "bladder_bowel",
    "sat on the toilet for an hour and nothing came out, so constipated": "bladder_bowel",
    "been on the toilet all morning, nothing comes out, I'm so backed up": "bladder_bowel",
    "hold your water, the nurse will call": "bladder_bowel",
    "I can't hold my water bottle with this back": "bladder_bowel",
    "my puppy had an accident on the rug": "bladder_bowel",
    "my little girl is potty training and had an accident in her pants": "bladder_bowel",
    "the part of the chair that touches the floor is broken": "saddle_numbness",
    "no tengo sensibilidad para la música jaja": "saddle_numbness",
    "a long bike ride made my butt numb for a bit": "saddle_numbness",
    "my legs, both of them are fine": "legs",
    "mis pies no tienen fuerza de voluntad para ir al gym": "legs",
    "no me tengo en pie de cansancio": "legs",
    "my aunt has had weak legs since childhood, nothing new": "legs",
    "mi abuelo tiene las piernas débiles desde niño por la polio": "legs",
    "my car is running hot again": "fever",
    "the engine keeps running hot": "fever",
    "tengo 38 y pico años": "fever",
    "me tumbó un carro de supermercado lleno de cosas jaja": "major_trauma",
    "my daughter fell off her scooter, she's fine, my back hurts from lifting her": "major_trauma",
    "mi hijo se cayó del columpio pero está bien": "major_trauma",
    "my internet gets worse every few hours": "worsening_pain",
    "my cooking gets worse every day": "worsening_pain",
    "el tráfico va a peor": "worsening_pain",
    "ayer era un 5 y hoy un 3, mejor": "worsening_pain",
    "el precio sube cada día": "worsening_pain",
    "my handwriting keeps getting worse, at least my back is getting better": "worsening_pain",
    "as soon as I lie down it feels better": "rest_night_pain",
    "in bed it hurts a lot less": "rest_night_pain",
    "mostly painful in the morning": "rest_night_pain",
    "mi bebé me despierta en la madrugada": "rest_night_pain",
    "el despertador me despierta y me duele la espalda": "rest_night_pain",
    "the bones of the story are weak": "minor_fall_fragile",
    "a slip of the tongue, my dad is 80": "minor_fall_fragile",
}
