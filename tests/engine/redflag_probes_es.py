"""Spanish and Spanglish universal red-flag families (#16), each in words of its own (not the corpus items), and the
look-alikes found by probing each new rule: they must stay quiet as that flag. Kept apart from the English probes so
the two can be tuned at the same time."""

from __future__ import annotations

ES_FAMILIES: dict[str, str] = {
    # holdout21: la sangre a borbotones (severe_bleeding)
    "se rebanó el dedo y sangra a borbotones": "severe_bleeding",
    "le sale la sangre a borbotones de la pierna": "severe_bleeding",
    "estoy sangrando a borbotones por la nariz": "severe_bleeding",
}

ES_LOOK_ALIKES: dict[str, str] = {
    # "me mató" del esfuerzo, no de matarse (crisis)
    "me mata cargar a mi hijo todo el dia": "crisis",
    "ayer me mato trabajando doble turno": "crisis",
    "me mató el gym de ayer, no me puedo ni sentar": "crisis",
    # la sobredosis de comida (overdose)
    "anoche sobredosis de papitas y galletas jaja": "overdose",
    "sobredosis de sal en la cena de mi suegra": "overdose",
    # un aparato que convulsiona o tiembla (seizure)
    "la compu tiembla cuando juega mi hijo": "seizure",
    "mi celular convulsiona cuando abro la app": "seizure",
    "la lavadora se sacude toda en el centrifugado": "seizure",
    # borbotones que no son sangre (severe_bleeding)
    "la llave echa agua a borbotones": "severe_bleeding",
}
