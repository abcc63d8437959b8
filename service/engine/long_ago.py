"""Words that put a finding long in the past: "had a seizure as a baby", "a mi compadre le dio un infarto
hace diez años", "a car accident back in 1998". An emergency flag is about now, so such a finding does not
escalate (redflags.py); a flag whose history counts (a past suicide attempt, `past_counts`) still does.

The unit is a stretch of a clause between "and", "but", "so", "now", "y", "pero", "ahora" (clauses are
already split at commas and full stops): "I had surgery 3 years ago and I can't pee" keeps its second
half, and so does a new statement typed straight after the time words ("had a stroke years ago her face is
drooping"). A stretch that also says now ("today", "ahorita", "still") is kept whole, and so is a clause when
it or the next says the past is happening again ("and another one right now", "otra vez"). Durations of
something still going on are not the past: "since 2019", "desde hace dos años", "hace dos años que me duele",
"started years ago". The time words said as a clause of their own put the clause before them in the past: "passed
out giving blood in college, years ago".
"""

from __future__ import annotations

import re

_NUMBER = (r"\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
           r"a few|few|several|many|a couple( of)?|couple( of)?|some|so many")
_NUMERO = (r"\d+|un|una|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|veinte|treinta|cuarenta|"
           r"cincuenta|unos|unas|unos \w+|muchos|varios|bastantes|un par de|algunos|tantos")
_LONG_AGO = re.compile(
    r"\b(?:"
    rf"(?:{_NUMBER}) (?:years?|yrs?|months?|decades?) ago|years ago|ages ago|decades ago|(?:a )?long (?:time )?ago|"
    r"last year|the year before last|back in (?:(?:19|20)\d\d|the day|the \d0s|college|school|high school)|"
    r"in (?:19|20)\d\d|in the (?:19|20)\d0s|"
    r"as an? (?:baby|infant|kid|child|toddler|teen\w*|little (?:kid|girl|boy)|young (?:man|woman|adult))|"
    r"when (?:i|he|she|they|we) (?:was|were) (?:a |an |in )?(?:baby|infant|kid|child|toddler|little|young|teen\w*|"
    r"younger|high school|middle school|grade school|college|\d+)\b|"
    r"in (?:high|middle|grade|elementary) school|in (?:my|his|her) (?:childhood|teens|twenties|thirties|\d0s)|"
    r"growing up"
    r")"
    r"|\b(?:"
    rf"hace (?:{_NUMERO}) (?:anos?|mes(?:es)?|decadas?)\b(?! que)|hace (?:muchos |unos |varios )?anos\b(?! que)|"
    r"hace (?:mucho tiempo|mucho|tiempo|un monton|un buen tiempo)\b(?! que)|el ano pasado|"
    r"(?:en|por) (?:19|20)\d\d|en los (?:anos (?:19|20)?\d0|(?:19|20)\d0)\b|"
    r"de (?:nino|nina|chico|chica|chiquit[oa]|pequen[oa]|bebe|joven|adolescente|chamac[oa]|nen[ea]|escuincle)|"
    r"en la (?:secundaria|prepa|preparatoria|primaria|universidad)\b|"
    r"cuando (?:yo |el |ella )?(?:era|eras|eramos|estaba) (?:un |una |muy |bien )?(?:nino|nina|bebe|chico|chica|"
    r"chiquit[oa]|pequen[oa]|joven|adolescente|nen[ea]|chamac[oa]|escuincle|en la (?:prepa|secundaria|primaria))|"
    # an age, as the English "when I was 10": "me caí de la bici cuando tenía 10 años"
    rf"cuando (?:yo |el |ella )?(?:tenia|tenias|teniamos|tenian) (?:{_NUMERO}) anos\b"
    r")")
# said after the finding, as a clause of its own: "had a seizure as a baby, none since"
_NONE_SINCE = re.compile(
    r"^(?:and )?(?:none|nothing|no more|not one|havent had (?:one|any|another)|never had (?:one|another|any)|"
    r"never happened) (?:since|ever since|since then|after that)\b|^(?:and )?never again\b"
    r"|^(?:y )?(?:ninguna?|ningun|nada|nunca) (?:otra vez |mas )?desde entonces\b"
    r"|^(?:y )?(?:no|nunca|jamas) (?:me|le|les|nos) (?:ha |han )?(?:vuelto|volvio|volvieron) a (?:dar|pasar|repetir)\b")
# the time words as a clause of their own, right after the finding's: "I passed out once giving blood in college, years
# ago", "me desmayé una vez donando sangre, hace años" (the clause before is put in the past, as by "none since"; not
# when the clause after says again or now: "i passed out, years ago, and again today")
_ONLY_LONG_AGO = re.compile(
    r"^(?:(?:and|but|oh|well|like|about|maybe|probably|around|roughly|over|that was|this was|it was|was|thats|y|pero|"
    r"como|unos|eso fue|fue) )*(?:" + _LONG_AGO.pattern
    + r")(?: (?:now|lol|haha|or so|or more|at least|i think|creo))*$")
# said to be over, after the finding, as a clause of its own or the next stretch: "my chest was tight last month but
# thats long gone", "the heart attack was my neighbors, last year, and hes fine now", "el mes pasado se me hinchó la
# boca pero ya pasó", "had Bells palsy in 2015 and the face droop went away completely"
_OVER = re.compile(
    r"^(?:and |but |y |pero )?(?:"
    r"(?:(?:thats|that is|its|it is|that was|it was|its been|it has been) )?(?:long |all |totally |completely )?gone\b|"
    r"(?:(?:it|that|the \w+(?: \w+)?) )?(?:went|has gone|cleared) (?:away|up)(?: completely| for good| on its own)?\b|"
    r"(?:he|she|they|i|hes|shes|theyre|im|he is|she is|they are|i am|i was|he was|she was)(?: s| is| are| am)? "
    r"(?:fine|ok|okay|good|great|well|all good|doing (?:great|fine|well|good|ok|okay)|totally fine|perfectly fine)"
    r" now\b|ya (?:paso|se (?:me |le )?(?:paso|quito|fue)|(?:estoy|esta|estamos|quede|quedo) bien)\b|"
    r"(?:y )?(?:quede|quedo) bien\b|"
    r"nunca mas\b)")
# the recent past, put behind only when said to be over (a month or more; not "this morning", "yesterday", "last week":
# a face that drooped this morning and went away is a warning now)
_LAST_MONTH = re.compile(
    r"\b(?:last (?:month|summer|winter|spring|fall|autumn)|(?:a|one|two|three|\d+) months? (?:back|before)|"
    r"el (?:mes|verano|invierno|otono) pasado|la primavera pasada)\b")
# back now, anywhere after: undoes the over rule ("... went away but now its back")
_BACK = re.compile(r"\b(?:(?:its|it s|it is|is|are|came|comes|coming|come|been) back|returned|again|regreso|volvio|"
                   r"otra vez|de nuevo)\b"
                   # or a new finding now: "..., but thats gone, now its crushing", "pero ya pasó, ahora me duele"
                   r"|\b(?:right now|(?:now|today|tonight) (?:its|it is|it s|im|i am|my|his|her|theres|the|he|she|i)|"
                   r"(?:ahora|ahorita|hoy) (?:me|le|se|tengo|tiene|siento|esta|estoy|es|mi|su))\b")
_STRETCH = re.compile(r"\b(?:and|but|so|then|now|y|pero|ahora|entonces)\b")
# now, anywhere in the stretch: "I had a stroke in 2019 and today my face is drooping again"
_NOW = re.compile(
    r"\b(?:now|right now|rn|today|tonight|this (?:morning|afternoon|evening|week)|yesterday|last night|just|"
    r"suddenly|again|still|ahora|ahorita|hoy|ayer|anoche|esta (?:manana|tarde|noche|semana)|de repente|derrepente|"
    r"otra vez|de nuevo|acaba de|todavia|sigue|sigo)\b")
# still going on since then, said before the time words: "numb since 2 years ago", "started years ago", "desde hace
# años" (after them, "since" is what followed: "a car accident in 1998, my back has been cranky since")
_ONGOING = re.compile(r"\b(?:since|ever since|started|starting|began|for the (?:past|last)|desde|empez\w*|comenz\w*)\b")

# the past happening again, said in this clause or the next: "a seizure a month ago and another one right now"
_AGAIN = re.compile(r"\b(?:again|another (?:one|attack|seizure|episode|stroke)|same thing|(?:its|it is) happening|"
                    r"otra vez|de nuevo|otr[oa] igual|lo mismo|(?:me|le) esta pasando|volvio a)\b")
# a new statement right after the time words: "had a stroke years ago her face is drooping" (typed without a stop)
_NEW_SUBJECT = re.compile(r"^ (?:i|im|ive|my|he|hes|she|shes|his|her|they|theyre|their|it|its|mi|su|sus|yo|el|ella)\b")


def without_long_ago(clauses: list[str]) -> list[str]:
    """The clauses with each stretch that puts itself long in the past blanked out, word for word (so word
    positions, which `near` rules count, stay where they were)."""
    out = []
    for index, clause in enumerate(clauses):
        later = clauses[index + 1] if index + 1 < len(clauses) else ""
        if _AGAIN.search(clause) or _AGAIN.search(later):
            out.append(clause)
            continue
        after = clauses[index + 2] if index + 2 < len(clauses) else ""
        put_past = (_NONE_SINCE.match(later)
                    or (_ONLY_LONG_AGO.match(later) and not _AGAIN.search(after)
                        and (not _NOW.search(after) or _OVER.match(after) and not _comes_back(clauses[index + 2:])))
                    or (_past_said_over(clause, later, clauses[index + 1:])))
        if put_past and not _NOW.search(clause) and not _ONGOING.search(clause):
            out.append(_blank(clause))
            continue
        pieces, start = [], 0
        for cut in _STRETCH.finditer(clause):
            pieces.append(clause[start:cut.start()])
            start = cut.start()
        pieces.append(clause[start:])
        kept = [_past_blanked(p) for p in pieces]
        # the stretch after a past one, saying it is over: "in 2015 and the face droop went away completely"
        for at in range(1, len(kept)):
            if kept[at - 1] != pieces[at - 1] and _OVER.match(pieces[at].strip()) and not _BACK.search(clause):
                kept[at] = _blank(pieces[at])
        out.append("".join(kept))
    return out


def _past_said_over(clause: str, later: str, rest: list[str]) -> bool:
    """A finding dated a month or more back, said to be over in the next clause, and not back since."""
    return bool((_LAST_MONTH.search(clause) or _LONG_AGO.search(clause)) and _OVER.match(later)
                and not _comes_back(rest))


def _comes_back(rest: list[str]) -> bool:
    return any(_BACK.search(c) for c in rest)


def _past_blanked(stretch: str) -> str:
    found = _LONG_AGO.search(stretch)
    if found is None or _NOW.search(stretch) or _ONGOING.search(stretch[:found.end()]):
        return stretch
    tail = stretch[found.end():]
    if stretch[:found.start()].strip() and _NEW_SUBJECT.match(tail):
        return _blank(stretch[:found.end()]) + tail
    return _blank(stretch)


def _blank(words: str) -> str:
    # "-" is no word, and no pattern's "( \w+)" reaches across it; the spaces are kept, so the words are still
    # counted
    return re.sub(r"\S+", "-", words)
