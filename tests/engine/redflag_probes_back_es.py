"""Spanish and Spanglish probes for the back flow's own flags (#16), each in words of its own (not the corpus
items), and the look-alikes found by probing each new rule. Kept apart from redflag_probes_back.py so the English
and the Spanish back flags can be tuned at the same time."""

from __future__ import annotations

BACK_ES_FAMILIES: dict[str, str] = {
    # holdout22: no sentir cuándo sale la orina (bladder_bowel)
    "no siento cuando se me sale el pipí": "bladder_bowel",
}

BACK_ES_LOOK_ALIKES: dict[str, str] = {
    # la fiebre de un partido, no del cuerpo (fever)
    "tengo fiebre de futbol con el mundial jaja": "fever",
}
