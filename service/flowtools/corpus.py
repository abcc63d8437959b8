"""The red-flag corpus: patients' own words, labelled, played straight through the engine.

tests/corpus/tuning.yaml and holdoutN.yaml (each held-out part measured once, blind, then tuned on; the
newest is never tuned on) hold
emergency messages, each labelled with the red flag it states, and benign or negated mimics. Each item
is sent where it says (`at: first`, or at a screening question after "no" to every question before
it). An emergency is caught when that one text escalates at its flag's level or higher; a mimic is
over-triaged when it escalates as an emergency.

The safety bar (references.md, SMASS): the upper bound of the exact (Clopper-Pearson) 95% interval of
missed emergencies below 1%.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..engine.flow import Flow, Level, Question, most_urgent
from ..engine.state import ACTIVE, Escalate, State
from ..engine.step import step
from ..engine.yamlfile import parse_model, read_source

# Each held-out part was written blind by someone who never saw the phrase lists, measured once as it came,
# then tuned on (its first figures stay in its header); the newest part (after TUNED_PARTS) is never tuned on:
# reported, never required.
TUNED_PARTS = ("tuning", *(f"holdout{n}" for n in range(1, 26)))
PARTS = (*TUNED_PARTS, "holdout26")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    flag: str | None
    lang: str
    at: str
    mimic_of: str | None = None


class CorpusFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    items: list[Item]


def load_part(directory: Path, part: str) -> list[Item]:
    path = directory / f"{part}.yaml"
    model, _ = parse_model(read_source(path), str(path), CorpusFile)
    return model.items


def _screen_before(flow: Flow, node_id: str) -> dict[str, str]:
    """'no' to every screening question asked before node_id (the path a patient with no red flag takes)."""
    answers: dict[str, str] = {}
    current = flow.nodes[flow.start]
    current_id = flow.start
    while current_id != node_id:
        if isinstance(current, Question):
            answers[current_id] = "no"
            current_id = next(c.next for c in current.choices if c.id == "no")
        else:
            current_id = getattr(current, "next", node_id)
        current = flow.nodes[current_id]
    return answers


@dataclass(frozen=True)
class Played:
    item: Item
    level: Level | None  # the escalation level the text reached, if any
    flags: tuple[str, ...]
    confirm_asked: bool
    wanted: Level | None  # the labelled red flag's level (None for a mimic)
    noted: tuple[str, ...] = ()  # red flags the text left on the state: the screen goes on, its outcome no lower

    @property
    def caught(self) -> bool:
        """Escalated at the flag's level or higher; a flag below the emergency levels (seen today, within 24 h)
        does not stop the screen, so for it being noted is the catch: the outcome cannot fall under it."""
        assert self.wanted is not None
        if self.level is not None and self.level.rank >= self.wanted.rank:
            return True
        return self.wanted.disposition != "emergency" and self.item.flag in self.noted


def play(flow: Flow, item: Item) -> Played:
    if item.at == "first":
        state = State(language=item.lang)
    else:
        state = State(node=item.at, status=ACTIVE, language=item.lang, answers=_screen_before(flow, item.at),
                      privacy_notice_sent=True)
    result = step(flow, state, item.text, {"clinic_name": "Clinic", "clinic_phone": "555-0100"})
    escalations = [a for a in result.actions if isinstance(a, Escalate)]
    level = most_urgent([a.level for a in escalations]) if escalations else None
    flags = tuple(f for a in escalations for f in a.red_flags)
    wanted = flow.red_flags[item.flag].level if item.flag else None
    return Played(item, level, flags, result.state.confirm is not None, wanted, result.state.red_flags)


def upper_bound(misses: int, n: int, confidence: float = 0.95) -> float:
    """Exact (Clopper-Pearson) upper bound of a binomial proportion, two-sided."""
    if n == 0:
        return 1.0
    if misses >= n:
        return 1.0
    alpha = (1 - confidence) / 2

    def cdf(p: float) -> float:  # P(X <= misses) for Binomial(n, p)
        return sum(math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                            + k * math.log(p) + (n - k) * math.log1p(-p)) for k in range(misses + 1))

    low, high = misses / n, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if cdf(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


@dataclass
class Tally:
    total: int = 0
    caught: int = 0
    misses: list[Played] = field(default_factory=list)

    def add(self, played: Played) -> None:
        self.total += 1
        if played.caught:
            self.caught += 1
        else:
            self.misses.append(played)


def report(flow: Flow, directory: Path, parts: tuple[str, ...] = PARTS) -> tuple[str, bool]:
    """The recall table per part, flag and language, over-triage on the mimics, and every miss.
    Returns the text and whether the tuned parts are whole (no miss, no mimic over-triaged)."""
    lines: list[str] = []
    ok = True
    parts = tuple(part for part in parts if (directory / f"{part}.yaml").is_file())
    tuned_emergencies: list[Played] = []
    for part in parts:
        played = [play(flow, item) for item in load_part(directory, part)]
        emergencies = [p for p in played if p.item.flag is not None]
        if part in TUNED_PARTS:
            tuned_emergencies += emergencies
        mimics = [p for p in played if p.item.flag is None]
        by_flag: dict[tuple[str, str], Tally] = defaultdict(Tally)
        first: dict[str, Tally] = defaultdict(Tally)
        overall = Tally()
        for p in emergencies:
            by_flag[(p.item.flag, p.item.lang)].add(p)  # type: ignore[index]
            overall.add(p)
            if p.item.at == "first":
                first[p.item.flag].add(p)  # type: ignore[index]
        over = [p for p in mimics if p.level is not None and p.level.disposition == "emergency"]
        bound = upper_bound(len(overall.misses), overall.total)
        lines += [f"## {part}: {overall.total} emergencies, {len(mimics)} mimics", "",
                  "| red flag | en | es | first text alone |", "|---|---|---|---|"]
        for flag_id in sorted({f for f, _ in by_flag}, key=lambda f: list(flow.red_flags).index(f)):
            cells = []
            for lang in ("en", "es"):
                tally = by_flag.get((flag_id, lang))
                cells.append(f"{tally.caught}/{tally.total}" if tally else "-")
            alone = first.get(flag_id)
            cells.append(f"{alone.caught}/{alone.total}" if alone else "-")
            lines.append(f"| {flag_id} | " + " | ".join(cells) + " |")
        first_total = sum(t.total for t in first.values())
        first_caught = sum(t.caught for t in first.values())
        lines += ["", f"- recall {overall.caught}/{overall.total}; missed {len(overall.misses)}; "
                      f"upper 95% bound of the miss rate (Clopper-Pearson) {bound:.2%}",
                  f"- recognised from the first text alone: {first_caught}/{first_total}",
                  f"- mimics escalated as emergencies (over-triage): {len(over)}/{len(mimics)}", ""]
        for p in overall.misses:
            lines.append(f"  MISSED {p.item.flag} ({p.item.lang}, at {p.item.at}): {p.item.text!r} "
                         f"-> {p.level.value if p.level else 'no escalation'}"
                         f"{', confirm asked' if p.confirm_asked else ''}")
        for p in over:
            lines.append(f"  OVER-TRIAGED mimic of {p.item.mimic_of} ({p.item.lang}, at {p.item.at}): "
                         f"{p.item.text!r} -> {p.level.value if p.level else ''} {list(p.flags)}")
        lines.append("")
        if part in TUNED_PARTS:  # the held-out part is reported, never required (it would become tuning)
            ok = ok and not overall.misses and not over
    tuned = [part for part in parts if part in TUNED_PARTS]
    if len(tuned) > 1:
        missed = sum(1 for p in tuned_emergencies if not p.caught)
        total = len(tuned_emergencies)
        lines.append(f"## the tuned parts together ({', '.join(tuned)}): {total - missed}/{total} "
                     f"caught; upper 95% bound of the miss rate {upper_bound(missed, total):.2%}")
    return "\n".join(lines), ok
