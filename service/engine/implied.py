"""Answers that already say yes or no without the words: hedges, durations and ages.

"a little", "kind of", "sometimes" at a red-flag question are a yes (a patient who half-admits a red
flag has it); "not really", "I don't think so" are a no to be confirmed once. "2 days", "since monday",
"3 weeks" answer "has it lasted more than a week?", and "I'm 45" answers "are you 60 or older?", read
against the question's `yes_when` (more_than, at_least).
"""

from __future__ import annotations

import re
from datetime import timedelta

from .flow import Question
from .text import normalize

YES, NO = "yes", "no"

_HEDGED_YES = re.compile(
    r"^(?:(?:ok|well|um+|uh+|hmm+|yeah|ya)\s+)?"
    r"(?:a little(?: bit)?|a bit|a tiny bit|little bit|kind of|kinda|sort of|sorta|somewhat|slightly|sometimes|"
    r"at times|on and off|off and on|now and then|i think so|i think|i guess|i guess so|think so|un poco|poquito|"
    r"un poquito|a veces|creo que si|mas o menos|medio|algo|yo creo|creo)(?:\s|$)")
_HEDGED_NO = re.compile(
    r"^(?:(?:ok|well|um+|uh+|hmm+)\s+)?"
    r"(?:not really|not that i know of|not that i noticed|not that i can tell|i dont think so|dont think so|"
    r"i dont believe so|probably not|maybe not|i doubt it|not much|not exactly|no really|no realmente|"
    r"la verdad no|creo que no|no creo|parece que no|no que yo sepa|no mucho|casi no)(?:\s|$)")
# A hedge about getting better answers "is it getting worse?" with a no, not a yes.
# "no siento bien" is not easing: the word must not be negated just before it.
_EASING = re.compile(r"\b(?<!\bno )(?<!\bnot )(?<!\bno siento )(?<!\bno me siento )(?<!\bnot feeling )"
                     r"(better|easing|easier|improv\w*|fine|ok|okay|mejor|bien|igual)\b")
_UNSURE_ONLY = re.compile(r"^(?:i dont know|dont know|idk|not sure|no se|no estoy segur[oa])$")


def hedge(text: str) -> str | None:
    """YES for a hedged yes, NO for a hedged no (to be confirmed), None for anything else."""
    words = normalize(text)
    if not words or _UNSURE_ONLY.match(words):
        return None
    if _HEDGED_NO.match(words):
        return NO
    if _HEDGED_YES.match(words) and not _EASING.search(words):
        return YES
    return None


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "ten": 10, "couple": 2, "few": 3, "several": 4, "un": 1, "una": 1, "dos": 2, "tres": 3,
                 "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "diez": 10, "unos": 3, "unas": 3, "pocos": 3,
                 "pocas": 3, "varios": 4, "varias": 4}
_UNITS = {"hour": 1 / 24, "hr": 1 / 24, "day": 1, "night": 1, "week": 7, "wk": 7, "month": 30, "year": 365,
          "yr": 365, "hora": 1 / 24, "dia": 1, "noche": 1, "semana": 7, "mes": 30, "mese": 30, "ano": 365}
_AMOUNT = re.compile(
    r"\b(?:(more than|over|longer than|almost|nearly|less than|under|mas de|menos de|casi)\s+)?"
    r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|ten|couple|few|several|un|una|dos|tres|cuatro|cinco|seis|"
    r"siete|diez|unos|unas|pocos|pocas|varios|varias)\s+(?:of\s+)?"
    r"(hour|hr|day|night|week|wk|month|year|yr|hora|dia|noche|semana|mese|mes|ano)s?\b(\s+and a half)?")
_RECENT = re.compile(
    r"\b(today|tonight|yesterday|this morning|this afternoon|last night|since (?:yesterday|last night|this morning|"
    r"today|(?:mon|tues|wednes|thurs|fri|satur|sun)day)|hoy|ayer|anoche|esta manana|desde (?:ayer|anoche|hoy|esta "
    r"manana|el (?:lunes|martes|miercoles|jueves|viernes|sabado|domingo)))\b")


def duration(text: str) -> timedelta | None:
    """How long the patient says something has lasted, when they say it plainly."""
    words = normalize(text)
    amounts = list(_AMOUNT.finditer(words))
    if len(amounts) == 1:
        bound, count, unit, half = amounts[0].groups()
        days = (int(count) if count.isdigit() else _NUMBER_WORDS[count]) * _UNITS[unit] * (1.5 if half else 1)
        if bound in ("more than", "over", "longer than", "mas de"):
            days += 0.5
        elif bound in ("less than", "under", "almost", "nearly", "menos de", "casi"):
            days -= 0.5
        return timedelta(days=days)
    if not amounts and _RECENT.search(words):
        return timedelta(days=1)
    return None


_AGE = re.compile(r"^(?:(?:i am|im|i m|age|aged|edad|tengo|yo tengo|soy de)\s+)?(\d{1,3})"
                  r"(?:\s+(?:years?|yrs?|yo|anos|y o)(?:\s+old)?)?$|\b(?:i am|im|tengo|aged?)\s+(\d{1,3})\b")


def age(text: str) -> int | None:
    words = normalize(text)
    match = _AGE.search(words)
    if not match:
        return None
    value = int(match.group(1) or match.group(2))
    return value if 12 <= value <= 120 else None


def implied(question: Question, text: str) -> str | None:
    """YES or NO where a duration or an age in the answer settles the question (its `yes_when`)."""
    rule = question.yes_when
    if rule is None:
        return None
    answer = None
    if rule.more_than is not None:
        lasted = duration(text)
        if lasted is not None:
            answer = YES if lasted > rule.more_than else NO
    if answer is None and rule.at_least is not None:
        years = age(text)
        if years is not None:
            answer = YES if years >= rule.at_least else NO
    if answer == YES and not rule.alone:
        return None  # the question asks more than this: a value that meets it is not yet a yes
    return answer
