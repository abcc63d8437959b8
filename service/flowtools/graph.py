"""A flow as a graph for drawing: its nodes, its edges (answers, red flags, check-ins) and the outcomes
reachable from any step. Pure: the flow model in, plain data out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..engine.flow import DEFAULT_LANGUAGE, Flow, FreeText, Info, Level, Outcome, Question

LEVEL_LABELS = {
    Level.call_911_now: "Call 911 now",
    Level.ed_now: "Emergency department now",
    Level.seen_today: "Nurse callback: seen today",
    Level.seen_within_24h: "Nurse callback: seen within 24 h",
    Level.seen_within_3_days: "Clinic: seen within 3 days",
    Level.home_care: "Home care",
}


@dataclass(frozen=True)
class DiagramNode:
    id: str
    kind: str  # question | free | info | outcome
    text: str  # the node's own words (default language)
    level: Level | None = None
    screening: bool = False

    @property
    def palette(self) -> str:
        return self.level.disposition if self.level is not None else self.kind


@dataclass(frozen=True)
class DiagramEdge:
    source: str
    target: str
    label: str = ""
    style: str = "normal"  # normal | red_flag | checkin
    note: str = ""  # tooltip: the red flag's label


@dataclass(frozen=True)
class FlowGraph:
    flow_id: str
    title: str
    start: str
    nodes: list[DiagramNode]
    edges: list[DiagramEdge]
    anywhere: list[tuple[str, str, bool]] = field(default_factory=list)  # (what, outcome, red) at any step


def _words(text: dict[str, str]) -> str:
    return " ".join((text.get(DEFAULT_LANGUAGE) or next(iter(text.values()), "")).split())


def flow_graph(flow: Flow) -> FlowGraph:
    """Nodes, answers as edges (red-flag answers marked), check-ins, and the routes open at any step."""
    nodes: list[DiagramNode] = []
    edges: list[DiagramEdge] = []
    for node_id, node in flow.nodes.items():
        if isinstance(node, Question):
            nodes.append(DiagramNode(node_id, "question", _words(node.text), screening=node.screening))
            for choice in node.choices:
                flag = flow.red_flags.get(choice.red_flag) if choice.red_flag else None
                edges.append(DiagramEdge(node_id, choice.next, _words(choice.label),
                                         "red_flag" if choice.red_flag else "normal",
                                         f"red flag: {flag.label}" if flag else ""))
        elif isinstance(node, (FreeText, Info)):
            kind = "free" if isinstance(node, FreeText) else "info"
            nodes.append(DiagramNode(node_id, kind, _words(node.text),
                                     screening=isinstance(node, FreeText) and node.screening))
            edges.append(DiagramEdge(node_id, node.next, "any text" if kind == "free" else ""))
        elif isinstance(node, Outcome):
            nodes.append(DiagramNode(node_id, "outcome", _words(node.text), level=node.level))
            asks: dict[str, list[str]] = defaultdict(list)  # one dotted edge per question asked
            for plan in node.checkins:
                asks[plan.ask].append(_duration(plan.after.total_seconds()))
            for ask, afters in asks.items():
                edges.append(DiagramEdge(node_id, ask, f"check-in {', '.join(afters)}", "checkin"))
    anywhere = [(f"red flag in words, {LEVEL_LABELS[level].lower()}", target, True)
                for level, target in flow.level_outcomes.items()]
    anywhere += [("NURSE keyword", flow.nurse_outcome, False),
                 (f"screen not finished ({flow.reask_limit + 1} unclear answers in a row, or silence)",
                  flow.unclear_outcome, False)]
    known = set(flow.nodes)
    return FlowGraph(flow.id, flow.title, flow.start, nodes, [e for e in edges if e.target in known], anywhere)


def _duration(seconds: float) -> str:
    if seconds % 86400 == 0 and seconds >= 86400 * 3:
        return f"{int(seconds // 86400)}d"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 60)}m"
