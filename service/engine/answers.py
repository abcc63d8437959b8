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
# No-phrases are tried first so "i have no" is not read as "i have".
_NO_LEADS = [
    "no", "n", "nope", "nah", "naw", "nay", "not really", "not", "none", "never", "nothing", "negative",
    "i dont", "i do not", "i have not", "i havent", "i didnt", "i did not", "i am not", "im not",
    "i have no", "ive got no", "there is no", "theres no", "dont think so", "not at all",
    "nop", "para nada", "nada", "tampoco", "ninguno", "ninguna", "nunca", "no tengo",
]
_YES_LEADS = [
    "yes", "y", "yeah", "yea", "yep", "yup", "ya", "yah", "ye", "yas", "sure", "correct", "affirmative",
    "definitely", "absolutely", "indeed", "true", "uh huh", "i do", "i did", "i have", "i am", "it is",
    "it does", "si", "claro", "si senor", "si senora", "asi es", "cierto", "tengo", "yes i do",
]
# Uncertainty is not a "no": "I don't know" must be asked again, never read as a negative.
_UNSURE = re.compile(
    r"\b(not sure|unsure|dont know|do not know|idk|dunno|maybe|perhaps|kind of|kinda|sort of|"
    r"no se|no estoy segur[oa]|tal vez|quizas|a lo mejor)\b"
)
_ELONGATED = [(re.compile(r"^y+e+s+$"), "yes"), (re.compile(r"^n+o+$"), "no"), (re.compile(r"^y+e+a+h+$"), "yeah")]

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "first": 1, "second": 2, "third": 3, "fourth": 4,
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "primero": 1, "segundo": 2, "tercero": 3,
}
_NUMBER = re.compile(r"^(?:option |opcion |number |numero |press |#)?(\d{1,2}|[a-z]+)$")
_NEGATION_BEFORE = re.compile(r"\b(not|no|never|isnt|arent|ni|nunca)\s+(\w+\s+)?$")


def _leads_with(words: str, phrases: list[str]) -> bool:
    return any(words == p or words.startswith(p + " ") for p in phrases)


def yes_or_no(text: str) -> str | None:
    words = normalize(text)
    if _UNSURE.search(words):
        return None
    first = words.split(" ", 1)[0] if words else ""
    for pattern, word in _ELONGATED:
        if pattern.match(first):
            words = word + words[len(first):]
    no = _leads_with(words, _NO_LEADS)
    yes = _leads_with(words, _YES_LEADS)
    if no and not yes:
        return NO
    if yes and not no:
        return YES
    if yes and no:
        # "si no" and "yes no" stay unclear; "no tengo" and "i have no" are no (the longer lead wins).
        longest_no = max((p for p in _NO_LEADS if words == p or words.startswith(p + " ")), key=len)
        longest_yes = max((p for p in _YES_LEADS if words == p or words.startswith(p + " ")), key=len)
        if len(longest_no) > len(longest_yes):
            return NO
        if len(longest_yes) > len(longest_no):
            return YES
    return None


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
    mentioned = {c.id for c in question.choices for name in _names(c) if name and _mentions(words, name)}
    return mentioned.pop() if len(mentioned) == 1 else None


def _names(choice) -> set[str]:  # type: ignore[no-untyped-def]
    names = {normalize(label) for label in choice.label.values()}
    names |= {normalize(alias) for aliases in choice.aliases.values() for alias in aliases}
    names.add(normalize(choice.id.replace("_", " ")))
    return names


def is_yes_no(question: Question) -> bool:
    return {c.id for c in question.choices} == {YES, NO}


def parse_answer(question: Question, text: str) -> str | None:
    """The id of the chosen option, or None when the answer is not clear enough to act on."""
    words = normalize(text)
    if not words or _UNSURE.search(words):
        return None
    number = _number(words)
    if number is not None:
        return question.choices[number - 1].id if 1 <= number <= len(question.choices) else None
    if is_yes_no(question):
        answer = yes_or_no(text)
        if answer is not None:
            return answer
    else:
        letter = _letter(words, len(question.choices))
        if letter is not None:
            return question.choices[letter - 1].id
    return _by_words(question, words)
