"""Keywords that work at any time, whatever the flow is asking.

Carrier rules (CTIA) require STOP, END, CANCEL, UNSUBSCRIBE, QUIT to be honoured; the FCC (2024)
counts any reasonable way of saying stop, so short stop sentences count too. A keyword must be
the whole message: "the pain won't stop" is an answer, not an opt-out.
"""

from __future__ import annotations

import re
from enum import StrEnum

from .text import normalize


class Keyword(StrEnum):
    stop = "stop"
    start = "start"
    help = "help"
    nurse = "nurse"
    restart = "restart"
    spanish = "spanish"
    english = "english"


_PLEASE = r"(?:please |pls |por favor )?"
_PATTERNS: list[tuple[Keyword, re.Pattern[str]]] = [
    (Keyword.stop, re.compile(
        rf"^{_PLEASE}(?:stop|stopall|unsubscribe|cancel|end|quit|parar|baja|cancelar|alto|opt out|optout)"
        r"(?: (?:all|now|please|texting me|texting|messaging me|sending|texts|messages|me))*$"
        r"|^(?:no more (?:texts|messages)|dont text me(?: anymore)?|do not text me|remove me|"
        r"no me (?:envie|envien|manden) (?:mas )?mensajes)$")),
    (Keyword.start, re.compile(r"^(?:start|unstop|subscribe|resume|comenzar|iniciar|reanudar)$")),
    (Keyword.help, re.compile(r"^(?:help|info|information|ayuda|informacion)$")),
    (Keyword.nurse, re.compile(
        rf"^{_PLEASE}(?:nurse|enfermera|enfermero|talk to (?:a )?nurse|call me|speak to (?:a )?nurse|"
        r"i want (?:a|to talk to a) nurse|quiero (?:hablar con )?(?:una |un )?(?:enfermera|enfermero))"
        r"(?: please| pls| now| asap| por favor)?$")),
    (Keyword.restart, re.compile(r"^(?:restart|start over|reset|reiniciar|empezar de nuevo)$")),
    (Keyword.spanish, re.compile(r"^(?:espanol|spanish|en espanol)$")),
    (Keyword.english, re.compile(r"^(?:english|ingles|en ingles)$")),
]


def match_keyword(text: str) -> Keyword | None:
    words = normalize(text)
    for keyword, pattern in _PATTERNS:
        if pattern.match(words):
            return keyword
    return None
