"""Is this first message clearly Spanish? Then the conversation is held in Spanish.

Conservative on purpose: "no", "si", "ok", a name or a number say nothing, and a message with as
many English words as Spanish ones stays English. A wrong guess costs little (the patient can send
ENGLISH or ESPAÑOL at any time), but flipping on every "no" would be a nuisance.
"""

from __future__ import annotations

from .text import normalize

SPANISH = "es"

# A single one of these is a whole Spanish message: greetings and the Spanish keywords.
_ON_THEIR_OWN = frozenset({
    "hola", "buenas", "buenos", "gracias", "ayuda", "ayudame", "ayudeme", "auxilio", "socorro", "espanol",
    "parar", "baja", "cancelar", "enfermera", "enfermero", "reiniciar", "comenzar", "informacion",
    "urgente", "emergencia", "urgencia",
})
# Words that are Spanish and not English. Words both languages write ("no", "si", "me", "a", "ya", "y",
# "he", "son", "yo", "pies", "doctor", "favor", "ok") are in neither list.
_SPANISH_WORDS = _ON_THEIR_OWN | frozenset({
    "el", "la", "los", "las", "lo", "le", "les", "un", "una", "unos", "unas", "de", "del", "al", "en", "con", "por",
    "para", "que", "porque", "pero", "muy", "mucho", "mucha", "muchos", "mas", "tambien", "tengo", "tiene",
    "tienen", "estoy", "esta", "estan", "es", "fue", "soy", "puedo", "puede", "quiero", "necesito", "siento",
    "duele", "duelen", "dolor", "dolores", "espalda", "cintura", "espasmo", "espasmos", "cuello", "pierna",
    "piernas", "vejiga", "orina", "orinar", "pipi", "fiebre", "calentura", "vomito", "vomitos",
    "desmaye", "mareo", "mareado", "mareada", "caida", "cai", "accidente", "carro", "coche", "ayer", "hoy",
    "manana", "noche", "dia", "dias", "semana", "desde", "cuando", "donde", "como", "bien", "mal", "nada",
    "nunca", "tampoco", "senor", "senora", "senorita", "doctora", "medicina", "pastillas",
    "mi", "mis", "su", "sus", "usted", "ella", "nosotros", "este", "eso", "esto", "ahora",
    "todavia", "aun", "poco", "poquito", "claro", "bueno", "buena", "quisiera", "hablar", "llamar", "llamen",
    "espanol", "entiendo", "ingles", "hice", "tuve", "estaba", "estado", "hace", "se",
    "mama", "hijo", "hija", "esposo", "esposa", "responde", "despierta", "pecho", "respirar",
})
_ENGLISH_WORDS = frozenset({
    "i", "im", "ive", "id", "my", "you", "your", "the", "and", "or", "is", "are", "was", "were", "am", "be",
    "have", "has", "had", "do", "does", "did", "dont", "didnt", "cant", "not", "of", "to", "in", "it", "its",
    "this", "that", "with", "for", "on", "at", "from", "since", "back", "pain", "hurts", "hurt", "hurting",
    "hi", "hello", "hey", "yes", "yeah", "please", "help", "can", "could", "feel", "feeling", "got", "get",
    "really", "bad", "leg", "legs", "what", "how", "when", "why", "just", "about", "an", "need",
    "want", "nurse", "call", "today", "yesterday", "morning", "night", "spasm", "spasms", "lower", "thanks",
    "thank", "good", "but", "so", "if", "english", "stop", "start",
})


def detect_language(text: str) -> str | None:
    """'es' when the text is clearly Spanish; None when it is English, mixed or says too little."""
    words = normalize(text).split()
    spanish = sum(1 for word in words if word in _SPANISH_WORDS)
    english = sum(1 for word in words if word in _ENGLISH_WORDS)
    if spanish == 0 or english >= spanish:
        return None
    if english == 0 and (spanish >= 2 or any(word in _ON_THEIR_OWN for word in words)):
        return SPANISH
    # Some English words too ("hola, tengo back pain"): Spanish only when it clearly dominates.
    return SPANISH if spanish >= 2 and spanish >= 2 * english else None
