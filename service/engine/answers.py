"""The one answer parser: what did the patient choose? Used by SMS, voice speech and the simulator.

It only accepts an answer it can be sure of. Anything ambiguous returns None and the engine
re-asks: reading "I can't move my legs" as "no" would be far worse than asking again.
"""

from __future__ import annotations

import re

from .flow import Question
from .text import normalize

YES, NO = "yes", "no"

# Phrases that settle a yes/no question when they open the answer ("no I don't", "yes!!").
# When both kinds open it, the longer phrase wins: "i have no" is a no, "definitely not" too.
_NO_LEADS = [
    "no", "nope", "nah", "naw", "nay", "nop", "none", "never", "nothing", "negative", "nada", "nunca", "tampoco",
    "not really", "not at all", "not that i know of", "not me", "not yet", "not true", "no way",
    "definitely not", "absolutely not", "of course not", "certainly not", "dont think so", "i dont think so",
    "i dont", "i do not", "i have not", "i havent", "ive not", "i didnt", "i did not", "i am not", "im not",
    "i have no", "ive got no", "i have never", "ive never", "i never", "there is no", "theres no",
    "it is not", "its not", "it isnt", "it does not", "it doesnt", "para nada", "ninguno", "ninguna", "no tengo",
    "claro que no", "por supuesto que no", "de ninguna manera", "creo que no", "nel", "negativo", "todavia no",
    "aun no", "afraid not", "im afraid not", "i am afraid not", "sadly not", "unfortunately not", "me temo que no",
]
_YES_LEADS = [
    "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "ye", "yas", "sure", "correct", "affirmative", "definitely",
    "absolutely", "indeed", "true", "uh huh", "of course", "certainly", "si", "claro", "si senor", "si senora",
    "asi es", "cierto", "por supuesto", "sip", "aja", "afirmativo", "correcto", "exacto",
    # a yes said with regret (holdout19: "I'm afraid so. Slowly but steadily"), not only a bare yes
    "afraid so", "im afraid so", "i am afraid so", "i fear so", "sadly yes", "sadly so", "unfortunately yes",
    "unfortunately so", "me temo que si", "lamentablemente si", "desafortunadamente si", "por desgracia si",
]
# Short or sentence-like openings that count only as the whole answer: "y" alone is yes, but
# "y tengo fiebre" is Spanish for "and I have a fever"; "I am" answers "are you...", "I am fine" does not.
_YES_WHOLE = ["y", "i do", "i did", "i have", "i am", "it is", "it does", "tengo", "thats right", "that is right",
              "thats correct"]
_NO_WHOLE = ["n"]
# Words that may follow an answer without changing it ("yes please", "no thanks", "nope sir").
_POLITE = re.compile(r"^(?:please|pls|thanks|thank you|thx|ty|sir|maam|mam|lol|yes|no)(?: |$)")
# Openers that carry no answer ("ok yes", "um no"). "oh" is absent: "oh no" is not an answer.
_FILLER = re.compile(r"^(?:ok|okay|k|um+|uhm+|hm+|well|so|hi|hey|hello|lol|sorry|pues|bueno|ah+)\s+(?=\S)")
# Uncertainty is not a "no": "I don't know" must be asked again, never read as a negative.
_UNSURE = re.compile(
    r"\b(not sure|unsure|dont know|do not know|idk|dunno|maybe|perhaps|kind of|kinda|sort of|no idea|no clue|"
    r"not certain|i guess|i think so|who knows|hard to say|cant tell|cant say|cant remember|dont remember|"
    r"no se|no lo se|no estoy segur[oa]|tal vez|quizas|a lo mejor)\b"
)
_YES_WORDS = {"yes", "yeah", "yea", "yep", "yup", "ya", "si"}
_NO_WORDS = {"no", "nope", "nah", "naw"}

# A "no" that goes on to report something is not a plain no: "no but my legs are numb", "no I can't",
# "I haven't been able to pee", "I have no feeling in my legs". Such answers are asked again.
_NOT_A_PLAIN_NO = re.compile(
    r"\b(but|except|although|though|however|pero|aunque|excepto|sometimes|occasionally|at times|a little|a bit|"
    r"slightly|somewhat|barely|hardly|cant|cannot|can not|couldnt|could not|unable|no way|make it|made it|"
    r"(?:not|never|havent|hasnt|wasnt|werent) (?:been )?able|"
    r"(?:no|any|lost|lose|losing|loss of) (?:feeling|sensation|control|strength|power|use)|"
    r"(?:have|got|get|has) (?:any |much |full |the |good )?(?:feeling|sensation|control|strength|power)|"
    r"(?:feel|felt|feeling) nothing|"
    r"(?:not|dont|didnt|do not|did not|havent|have not|hasnt|has not|never) (?:really |even )?"
    r"(?:pee|peed|urinated?|poo|poop|pooped|passed urine|gone|moved?|walked?|stood|stand|walk|"
    r"(?:feel|felt) (?:my|anything|a thing|them|it|much)))\b"
)
# Words that report a finding: inside a "no" answer each must itself be negated ("no fever" is a no,
# "no, my legs are numb" is not).
_FINDING = re.compile(
    r"\b(numb\w*|weak\w*|tingl\w*|paraly\w*|fever\w*|chills|vomit\w*|throwing up|threw up|puk\w*|nause\w*|"
    r"faint\w*|passed out|blacked out|lost|lose|losing|loss|wet|leak\w*|accidents?|incontinen\w*|cancer|"
    r"tumou?r|steroids|prednisone|worse|worsening|fell|fallen|crash\w*|clammy)\b"
)
# "no" right before a subject is an interjection, not a negation: "no my legs are numb".
_NO_INTERJECTION = r"(?:no|nope|nah)(?=\s+(?:my|i|im|ive|it|its|the|me|they|theyre|both|he|she|we|this|that)\b)"
_NEGATION_CUE = re.compile(
    rf"\b(?!{_NO_INTERJECTION})(no|not|never|without|nothing|none|nor|neither|dont|didnt|doesnt|havent|hasnt|"
    r"hadnt|isnt|arent|wasnt|werent|wont|aint|ni|nunca|sin)\b(?:\s+\w+){0,3}\s*$"
)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "first": 1, "second": 2, "third": 3, "fourth": 4,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "primero": 1, "segundo": 2, "tercero": 3,
}
_NUMBER = re.compile(r"^(?:option |opcion |number |numero |press |#)?(\d{1,2}|[a-z]+)$")
_NEGATION_BEFORE = re.compile(
    r"\b(not|no|never|isnt|arent|wasnt|werent|aint|dont|didnt|doesnt|cant|hardly|barely|ni|nunca)\s+(\w+\s+){0,2}$")
_TRAILING_NO = re.compile(r"\b(no|nope|nah|not really)$")


def _lead(words: str, phrases: list[str]) -> str | None:
    """The longest phrase that opens the answer."""
    found = [p for p in phrases if words == p or words.startswith(p + " ")]
    return max(found, key=len) if found else None


def _collapse(word: str) -> str:
    """'yesss' -> 'yes', 'nooo' -> 'no', 'yepp' -> 'yep': stretched words people type."""
    return re.sub(r"(\w)\1+", r"\1", word)


def _opening(words: str) -> str:
    words = _FILLER.sub("", words)
    first, _, rest = words.partition(" ")
    collapsed = _collapse(first)
    if collapsed != first and (_lead(collapsed, _YES_LEADS + _NO_LEADS) or collapsed in ("yeah", "nope")):
        return f"{collapsed} {rest}".strip()
    return words


def _polite(rest: str) -> bool:
    while rest:
        match = _POLITE.match(rest)
        if not match:
            return False
        rest = rest[match.end():]
    return True


def _negated(words: str, match: re.Match[str]) -> bool:
    return bool(_NEGATION_CUE.search(words[: match.start()]))


def _plain_no(words: str) -> bool:
    """A no that reports nothing: no inability, no contrast, every finding word negated."""
    if _NOT_A_PLAIN_NO.search(words):
        return False
    return all(_negated(words, m) for m in _FINDING.finditer(words))


def yes_or_no(text: str) -> str | None:
    words = _opening(normalize(text))
    if not words or _UNSURE.search(words):
        return None
    tokens = set(words.split())
    if tokens & _YES_WORDS and tokens & _NO_WORDS:
        return None  # "yes and no", "si no"
    no = _lead(words, _NO_LEADS) or (words if words in _NO_WHOLE else None)
    yes = _lead(words, _YES_LEADS)
    whole_yes = _lead(words, _YES_WHOLE)
    if whole_yes is not None and _polite(words[len(whole_yes):].strip()):
        yes = yes if yes is not None and len(yes) > len(whole_yes) else whole_yes
    if no is not None and (yes is None or len(no) > len(yes)):
        return NO if _plain_no(words) else None
    if yes is not None and (no is None or len(yes) > len(no)):
        return YES
    return None


# "yes and no", "si o no": both answers, so neither.
_BOTH = re.compile(r"^\W*(?:and|or|y|o|and also|slash)?\s*(?:no|nope|not)\b")


def opens_with_yes(text: str) -> bool:
    """The answer starts with a plain yes and goes on to describe ("si, la vejiga no me obedece"). The
    description may contain "no" ("no sale nada"), which makes yes_or_no() refuse it; at a screening
    question, where yes is the side that gets more care, the opening yes is the answer."""
    words = _opening(normalize(text))
    lead = _lead(words, _YES_LEADS)
    if lead is None or len(lead) < len(_lead(words, _NO_LEADS) or ""):
        return False
    return not _BOTH.match(words[len(lead):])


def _number(words: str) -> int | None:
    match = _NUMBER.match(words)
    if not match:
        return None
    token = match.group(1)
    if token.isdigit():
        return int(token)
    return _NUMBER_WORDS.get(token)


def _letter(words: str, count: int) -> int | None:
    if len(words) == 1 and "a" <= words <= chr(ord("a") + count - 1):
        return ord(words) - ord("a") + 1
    return None


def _mentions(words: str, phrase: str) -> bool:
    """Whole-word mention that is not negated right before ("not better")."""
    for match in re.finditer(rf"\b{re.escape(phrase)}\b", words):
        if not _NEGATION_BEFORE.search(words[: match.start()]):
            return True
    return False


def _by_words(question: Question, words: str) -> str | None:
    exact = [c.id for c in question.choices if words in _names(c)]
    if len(exact) == 1:
        return exact[0]
    if is_yes_no(question) or _TRAILING_NO.search(words):
        # "yes"/"no" somewhere in a sentence is no answer ("there is no way I can pee"); nor is "better? no".
        return None
    mentioned = {c.id for c in question.choices for name in _names(c) if name and _mentions(words, name)}
    return mentioned.pop() if len(mentioned) == 1 else None


def _names(choice) -> set[str]:  # type: ignore[no-untyped-def]
    names = {normalize(label) for label in choice.label.values()}
    names |= {normalize(alias) for aliases in choice.aliases.values() for alias in aliases}
    names.add(normalize(choice.id.replace("_", " ")))
    return names


def is_yes_no(question: Question) -> bool:
    return {c.id for c in question.choices} == {YES, NO}


def _by_number(question: Question, words: str) -> str | None:
    number = _number(words)
    if number is None:
        return None
    return question.choices[number - 1].id if 1 <= number <= len(question.choices) else ""


def _in_words(question: Question, words: str) -> str | None:
    if is_yes_no(question):
        answer = yes_or_no(words)
        if answer is not None:
            return answer
    return _by_words(question, words)


def parse_answer(question: Question, text: str) -> str | None:
    """The id of the chosen option, or None when the answer is not clear enough to act on."""
    words = normalize(text)
    if not words or _UNSURE.search(words):
        return None
    exact = [c.id for c in question.choices if words in _names(c)]
    if len(exact) == 1:
        return exact[0]  # before dropping openers: "so so" is an answer, not "so" twice
    words = _FILLER.sub("", words)
    by_number = _by_number(question, words)
    if by_number is not None:
        return by_number or None  # "" is a number with no option behind it ("9" of 2)
    keyed = re.match(r"^(?:option |#)?(\d{1,2}) (.+)$", words)
    if keyed:
        # "3 worse", "2 no": the number and the words must agree.
        number, said = _by_number(question, keyed.group(1)), _in_words(question, keyed.group(2))
        return number if number and number == said else None
    if not is_yes_no(question):
        letter = _letter(words, len(question.choices))
        if letter is not None:
            return question.choices[letter - 1].id
    return _in_words(question, words)
