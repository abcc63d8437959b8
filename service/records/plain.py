"""The summary as plain text, for `flask cases show` (the case page renders the same Summary as HTML)."""

from __future__ import annotations

from ..engine.flow import LEVEL_WORDS
from ..escalation.cases import LANGUAGE_NAMES
from ..models import Escalation
from ..phones import mask
from .summary import Summary


def summary_text(summary: Summary, conversation_id: int, cases: list[Escalation], phone: str | None) -> str:
    language = LANGUAGE_NAMES.get(summary.language, summary.language)
    lines = [f"Conversation {conversation_id}: {summary.channel}, {language}, patient {mask(phone)}",
             f"Flow: {summary.flow_id} ({summary.flow_title}), version {summary.flow_version}"]
    if summary.level is not None:
        lines.append(f"Disposition: {LEVEL_WORDS[summary.level]} ({summary.level.value}, {summary.disposition}); "
                     f"outcome {summary.outcome}")
    else:
        lines.append(f"Disposition: none yet (conversation {summary.status})")
    for case in cases:
        lines.append(f"Case {case.id}: {case.status}, {case.level}: {case.reason}"
                     + (f"; owner {case.acknowledged_by}" if case.acknowledged_by else ""))
    lines += ["", "Red flags:"]
    for flag in summary.red_flags:
        lines.append(f"  {flag.flag} [{LEVEL_WORDS[flag.level]}]: {flag.label}")
        for evidence in flag.found:
            at = f"#{evidence.exchange} " if evidence.exchange else ""
            lines.append(f"    {at}{evidence.how} — \"{evidence.words}\"")
        lines.append(f"    source: {' '.join(flag.source.split())}")
    if not summary.red_flags:
        lines.append("  none")
    lines += ["", "Questions and answers:"]
    for exchange in summary.exchanges:
        asked = f"{exchange.asked}: {exchange.question}" if exchange.asked else "(nothing asked)"
        lines.append(f"  #{exchange.number} {asked}")
        if exchange.question_asked:
            lines.append(f"      asked in {LANGUAGE_NAMES.get(exchange.language, exchange.language)}: "
                         f"{exchange.question_asked}")
        lines.append(f"      said ({exchange.how}): \"{exchange.words}\" -> {exchange.reading.words}")
        for noted in exchange.reading.flags:
            lines.append(f"      red flag {noted.flag}: \"{noted.quote}\"")
    if not summary.exchanges:
        lines.append("  none")
    return "\n".join(lines)
