"""Where a negation cue cancels a red-flag finding in its clause, and where its reach ends (redflags.py asks
`negated` of each match): "no numbness" is denied, "no numbness and I can't pee" is not (a new subject ends the
scope), nor is "I can't pee" (a cue inside the match counts). Split from redflags.py to keep each module small."""

from __future__ import annotations

import re

# Words that cancel a following finding in the same clause. "cant" is deliberately absent:
# "I can't feel my legs" is a red flag, and patterns that need it spell it out.
NEGATION_CUES = (
    r"no|not|never|without|nothing|none|nor|neither|dont|didnt|doesnt|havent|hasnt|hadnt|isnt|arent|"
    r"wasnt|werent|wont|denies|deny|free of|negative for|"
    r"ni|nunca|sin|nada|tampoco|ningun|ninguna|ninguno"
)
# "no" right before a subject is an interjection, not a negation: "no my legs are numb". Not "he" or
# "me": Spanish "no he tenido fiebre", "no me he caido" are negations.
_NO_INTERJECTION = r"(?:no|nope|nah)\s+(?:my|i|im|ive|it|its|the|they|theyre|she|we|this|that)\b"
# "Without meaning to" is by accident, not a denial: "sin querer le di a mi hijo las medicinas de su abuelo", "without
# realizing it I took double my dose".
_BY_ACCIDENT = (r"(?:sin (?:querer|darme cuenta|darse cuenta|pensar|fijarme|fijarse)"
                r"|without (?:meaning to|realizing|realising|noticing|thinking|knowing))\b")
# "Not gonna lie" is "honestly", not a denial: "not gonna lie ive been cutting again", "no te voy a mentir, me quiero
# morir".
_NOT_LYING = (r"(?:not (?:gonna|going to|to) lie|no (?:lie|lies|joke|kidding|cap)|not (?:kidding|joking)|ngl"
              r"|no (?:te|les|le|os) (?:voy a )?(?:mentir|miento)|no (?:es|te) (?:broma|miento|mentira))\b")
# "De la nada" is "out of nowhere", not a denial: "de la nada sentí como si me rompieran la espalda por dentro".
_OUT_OF_NOWHERE = r"(?<!\bde la )"
_NEGATED_TAIL = re.compile(
    rf"\b(?!{_NO_INTERJECTION}|{_BY_ACCIDENT}|{_NOT_LYING}){_OUT_OF_NOWHERE}(?:{NEGATION_CUES})\b(?:\s+\w+){{0,3}}\s*$"
    r"|\b(?:dont|do not|didnt|did not) (?:think|believe) (?:that )?(?:i|im|its|it|ive)\b(?:\s+\w+){0,3}\s*$"
    # "I don't think my legs are weak": a doubt about a part, the sign four words on (a near rule's sign, read alone)
    r"|\b(?:dont|do not|didnt|did not) (?:think|believe) (?:that )?(?:my|his|her|their|the)\s+\w+(?:\s+\w+)?"
    r"\s+(?:is|are|was|were|feel|feels|felt|look|looks|seem|seems|got|have|has|went|go)(?:\s+\w+)?\s*$"
)
# A negation does not reach past a new subject ("no numbness and I can't pee", "I don't know why I
# can't walk", "his hand won't grip and his mouth is lopsided"), nor into a finding that opens with a preposition ("no
# numbness after the fall"); nor past Spanish "mejor" ("rather") opening its own clause: "si no puedo ni caminar mejor
# me muero" (the "no" is the condition's).
_SCOPE_BREAK = re.compile(
    r"\b(?:and|or|so|then|because|cause|cuz|since|why|how|when|while|now|also|plus|except|y|pero|porque|mejor)\s+"
    r"(?=(?:i|im|ive|id|my|it|its|me|theres|there|he|hes|she|shes|his|her|they|theyre|their|"
    r"yo|mi|tengo|estoy|estaba|ando|andaba|sigo|se|le)\b)"
)
# Nor past "and the ..." / "y el ..." into a new subject with its own verb: "no fever and the pain keeps climbing",
# "nothing works and the urine just runs out of me", "no tengo fiebre y el dolor sigue subiendo". A noun listed after
# the negation is still denied: "no numbness and the tingling", "no numbness and the tingling in my feet" (the finding
# is the noun itself, alone or followed by a preposition or a conjunction).
_ARTICLE_BREAK = re.compile(
    r"\b(?:and|or|y|o)\s+(?:the|this|that|these|those|el|la|los|las|este|esta|estos|estas|ese|esa)\s+(?=\w)")
_NOUN_GOES_ON = re.compile(
    r"^\w+(?:\s+(?:in|on|of|at|around|down|up|across|and|or|with|from|to|en|de|del|por|y|o|con|a|al)\b.*)?$")
_OPENS_NEW_SCOPE = ("after ", "since ", "from ", "desde que ")
# Nor past a new clause that opens with its own subject and verb, typed with no conjunction or comma: "idk hes not
# peeing hes seizing", "no fever shes shaking all over" (a contracted subject and an -ing verb). Not after a verb of
# thought or saying, where the clause is the negation's object: "i dont think hes seizing", "not sure shes breathing".
_SUBJECT_BREAK = re.compile(
    r"(?<=\w )(?<!\bthink )(?<!\bbelieve )(?<!\bthat )(?<!\bsure )(?<!\bif )(?<!\bsay )(?<!\bsays )(?<!\bsaid )"
    r"(?<!\bknow )(?<!\bguess )(?<!\bfeel )(?<!\bsee )(?<!\bhear )(?<!\bwhether )(?<!\bnot )(?<!\bno )"
    r"(?=(?:hes|shes|theyre|im)\s+\w+ing\b)")
# Nor past Spanish "desde que" into what it dates: "no puedo hacer nada desde que me cayó una rama encima", "ya no
# duermo desde que nos chocaron" (what happened since is said, not denied; a finding opening with it: _OPENS_NEW_SCOPE).
_SINCE_BREAK = re.compile(r"\bdesde que\s+(?=\w)")
# Nor past a negated condition into its main clause, opened by a subject: "if this doesnt let up i dont want to live";
# a subject contracted with will or would too, its apostrophe gone: "if the pain doesnt stop she'll end it" ("shell").
_CONDITION_BREAK = re.compile(rf"\b(?:if|unless|until|till|once)\s+(?:\w+\s+){{0,4}}?(?:{NEGATION_CUES})\s+"
                              r"(?:\w+\s+){1,3}?(?=(?:i|im|ill|id|ive|he|hes|hell|hed|she|shes|shell|shed|we|they|"
                              r"theyre|theyll|theyd)\b)")
# A negation reaches along a list joined by "or" / "nor": "no tightening or leaking or bleeding", "no fever nor
# chills or sweats" (each item one or two words; "and" is left out: "no fever and bleeding" may be two statements).
_NEGATED_LIST_TAIL = re.compile(
    rf"\b(?!{_NO_INTERJECTION})(?:no|not|never|without|nor|denies|deny|free of|negative for|ni|sin)\s+\w+(?:\s+\w+)?"
    r"(?:\s+(?:or|nor|o|ni)\s+\w+(?:\s+\w+)?){0,4}\s+(?:or|nor|o|ni)\s*$")
# A finding that is itself a negative statement ("no puedo orinar", "sin control de la vejiga") is not
# cancelled by a negation before it: Spanish doubles negation ("no sé por qué no puedo caminar").
_SELF_NEGATIVE = re.compile(r"^(?:no|not|sin|ni|nunca|tampoco|ya no)\b")
# Doubt is not denial: "no sé si tengo fiebre", "not sure if it's a fever" go to the nurse. A negation
# after the doubt still counts ("no se, no tengo fiebre" typed without the comma). A bare "no se" right before
# the finding is a negated reflexive verb, not doubt: "mi esposo no se desmayó".
_UNSURE_TAIL = re.compile(rf"\b(?:no lo se|no estoy segur[oa]|not sure|unsure|dont know|do not know)\b"
                          rf"(?:\s+(?!(?:{NEGATION_CUES})\b)\w+){{0,4}}\s*$"
                          rf"|\bno se\b(?:\s+(?!(?:{NEGATION_CUES})\b)\w+){{1,4}}\s*$")
# A hypothetical is no sign now: "what if I lose control of my bladder later?", "¿qué pasa si pierdo la fuerza
# en las piernas?". Only the words right after it: "what if it's nothing and I can't pee" keeps its "can't pee"
# (the scope break ends the hypothetical as it ends a negation).
_HYPOTHETICAL_TAIL = re.compile(r"\b(?:what if|what happens if|que pasa si|que tal si)\b(?:\s+\w+){0,3}\s*$")
# "fever: no", "numbness - none": a bare negation right after the finding ends the clause.
_NEGATED_AFTER = re.compile(
    r"^\s*(?:no|none|nope|nada|ninguna|ninguno)(?: tengo| he tenido| hay| i have| i dont| here)?\s*$")
# Spanish doubles its negation: a "nada" after a finding that is itself negative is its object, not a denial ("no sale
# nada", "no siento nada", "ya no puedo hacer nada").
_DOUBLED_NADA = re.compile(r"\b(?:no|ni|nunca|sin|ya no)\b(?:\s+\w+){0,3}\s+nada\s*$")


def negated(clause: str, match: re.Match[str]) -> bool:
    if denied_after(clause, match):
        return True
    if match.group(0).startswith(_OPENS_NEW_SCOPE):
        return False
    before = clause[: match.start()]
    # Up to the finding's end: a finding may open with the new subject itself ("porque se me aflojan las piernas").
    breaks = [b for rule in (_SCOPE_BREAK, _SUBJECT_BREAK, _CONDITION_BREAK, _SINCE_BREAK)
              for b in rule.finditer(clause, 0, match.end()) if b.end() <= match.start()]
    breaks += [b for b in _ARTICLE_BREAK.finditer(clause, 0, match.end()) if b.end() < match.start()
               or b.end() == match.start() and not _NOUN_GOES_ON.match(match.group(0))]
    breaks.sort(key=lambda b: b.end())
    if breaks:
        before = before[breaks[-1].end():]
    if _HYPOTHETICAL_TAIL.search(before):
        return True
    if _SELF_NEGATIVE.match(match.group(0)) or _UNSURE_TAIL.search(before):
        return False
    return bool(_NEGATED_TAIL.search(before) or _NEGATED_LIST_TAIL.search(before))


def denied_after(clause: str, match: re.Match[str]) -> bool:
    """A bare negation right after the words ends their clause: "el pecho nada", "chest: no" (not "no sale nada")."""
    rest = clause[match.end():]
    return bool(_NEGATED_AFTER.match(rest)) and not _DOUBLED_NADA.search(match.group(0) + rest)


# A list after a negation, its first comma typed before the "or": "no fever, chills or throwing up", "sin fiebre,
# escalofríos ni vómito" is one clause, so the denial reaches the whole list (items of one or two words, the list ends
# in "or" / "ni"; not after a denial of something else: "not really, chills or sweats at night", "no idea, chills or
# fever"; not when the next item is a statement of its own: "not eating, cant pee or poop")
_NEGATED_LIST_COMMA = re.compile(
    r"\b((?:no|not|never|without|denies|deny|sin|ni|nunca)[ \t]+(?!(?:really|sure|idea|clue|way|kidding|joke|lie|se|"
    r"creo|lo se|mucho|tanto)\b)[^\W\d_]+(?:[ \t]+[^\W\d_]+)?),"
    r"(?=[ \t]+(?!(?:can'?t|cannot|couldn'?t|don'?t|doesn'?t|didn'?t|won'?t|isn'?t|i'?m|i|my|his|her|he|she|it'?s|no|"
    r"not|never|now|but|and|y|pero|ya|me|se|le|mi|su|nos|tengo|tiene|estoy|esta)\b)"
    r"[^\W\d_]+(?:[ \t]+[^\W\d_]+)?[ \t]+(?:or|nor|o|ni)[ \t]+[^\W\d_]+)", re.IGNORECASE)


def list_commas_joined(text: str) -> str:
    """The text with a negated list's first comma dropped: "no fever, chills or throwing up" is one denial."""
    return _NEGATED_LIST_COMMA.sub(r"\1", text) if "," in text else text
