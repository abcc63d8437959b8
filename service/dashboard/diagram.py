"""A flow as a picture: Mermaid text and a self-drawn SVG, both from the loaded flow, so they match what runs.

Pure: the flow model in, text out (no Flask, database or external tools). The SVG uses a small layered
layout (Sugiyama style): break cycles, longest-path layers, dummy points on long edges, barycenter
ordering, then x positions by isotonic regression so edges run as straight as the order allows.
Only presentation attributes are used (no <style>), so the SVG renders under a strict CSP.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from ..engine.flow import DEFAULT_LANGUAGE, Flow, FreeText, Info, Level, Outcome, Question

LEVEL_LABELS = {
    Level.call_911_now: "Call 911 now",
    Level.ed_now: "Emergency department now",
    Level.seen_today: "Nurse callback: seen today",
    Level.seen_within_24h: "Nurse callback: seen within 24 h",
    Level.seen_within_3_days: "Clinic: seen within 3 days",
    Level.home_care: "Home care",
}
# fill, stroke: by disposition for outcomes, by node type for the rest
COLORS = {
    "emergency": ("#ffebee", "#c62828"),
    "nurse_callback": ("#fff3e0", "#e65100"),
    "clinic_queue": ("#fffde7", "#f9a825"),
    "self_care": ("#e8f5e9", "#2e7d32"),
    "question": ("#e3f2fd", "#1565c0"),
    "free": ("#ede7f6", "#5e35b1"),
    "info": ("#f5f5f5", "#616161"),
}
RED = "#c62828"
EDGE = "#455a64"
CHECKIN = "#6a1b9a"


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


# --- Mermaid ----------------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    return text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _short(text: str, width: int) -> str:
    return textwrap.shorten(text, width=width, placeholder="…")


def mermaid(flow: Flow, *, header: str = "") -> str:
    """`flowchart TD` text: questions as hexagons, outcomes as stadiums coloured by disposition,
    red-flag answers as red links (linkStyle), check-ins dotted."""
    graph = flow_graph(flow)
    lines = [f"%% {header}" if header else f"%% flow {graph.flow_id}: {graph.title}", "flowchart TD"]
    for node in graph.nodes:
        if node.kind == "outcome":
            assert node.level is not None
            label = f"{node.id}<br/>{_mermaid_text(LEVEL_LABELS[node.level])}"
            lines.append(f'    {node.id}(["{label}"])')
        else:
            label = f"{node.id}<br/>{_mermaid_text(_short(node.text, 60))}"
            shape = ('{{"', '"}}') if node.kind == "question" else ('["', '"]')
            lines.append(f"    {node.id}{shape[0]}{label}{shape[1]}")
    red_links: list[int] = []
    for index, edge in enumerate(graph.edges):
        arrow = "-.->" if edge.style == "checkin" else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
        if edge.style == "red_flag":
            red_links.append(index)
    lines.append('    anywhere[/"At any step"/]')
    offset = len(graph.edges)
    for index, (what, target, red) in enumerate(graph.anywhere):
        lines.append(f'    anywhere -.->|"{_mermaid_text(what)}"| {target}')
        if red:
            red_links.append(offset + index)
    if red_links:
        lines.append(f"    linkStyle {','.join(map(str, red_links))} stroke:{RED},stroke-width:3px,color:{RED}")
    for palette, (fill, stroke) in COLORS.items():
        lines.append(f"    classDef {palette} fill:{fill},stroke:{stroke},color:#212121")
    by_palette: dict[str, list[str]] = defaultdict(list)
    for node in graph.nodes:
        by_palette[node.palette].append(node.id)
    for palette, ids in by_palette.items():
        lines.append(f"    class {','.join(ids)} {palette}")
    lines.append(f"    style {graph.start} stroke-width:4px")
    return "\n".join(lines) + "\n"


# --- layout -------------------------------------------------------------------------------------------

NODE_W, NODE_H, DUMMY_W = 240, 62, 14
H_GAP, V_GAP, MARGIN = 28, 58, 24


@dataclass
class _Item:
    key: str
    layer: int
    width: float
    node: DiagramNode | None = None  # None: a bend point of a long edge
    x: float = 0.0
    order: float = 0.0


def _break_cycles(graph: FlowGraph) -> set[int]:
    """Indexes of edges that close a cycle (found by DFS from the start, then file order)."""
    out: dict[str, list[int]] = defaultdict(list)
    for index, edge in enumerate(graph.edges):
        out[edge.source].append(index)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[int] = set()
    roots = [graph.start] + [n.id for n in graph.nodes]
    for root in roots:
        if root in state:
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            node, position = stack[-1]
            if position < len(out[node]):
                stack[-1] = (node, position + 1)
                index = out[node][position]
                target = graph.edges[index].target
                if state.get(target) == 1:
                    back.add(index)
                elif target not in state:
                    state[target] = 1
                    stack.append((target, 0))
            else:
                state[node] = 2
                stack.pop()
    return back


def _layers(graph: FlowGraph, forward: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources: every forward edge points down."""
    preds: dict[str, list[str]] = defaultdict(list)
    succs: dict[str, list[str]] = defaultdict(list)
    for source, target in forward:
        if source != target:
            preds[target].append(source)
            succs[source].append(target)
    ids = [n.id for n in graph.nodes]
    remaining = {node_id: len(set(preds[node_id])) for node_id in ids}
    ready = [node_id for node_id in ids if remaining[node_id] == 0]
    layer = {node_id: 0 for node_id in ids}
    done: set[str] = set()
    while ready:
        node_id = ready.pop(0)
        done.add(node_id)
        for target in dict.fromkeys(succs[node_id]):
            layer[target] = max(layer[target], layer[node_id] + 1)
            remaining[target] -= 1
            if remaining[target] == 0:
                ready.append(target)
    return layer


def _crossings(rows: list[list[_Item]], links: list[tuple[_Item, _Item]]) -> int:
    by_layer: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for upper, lower in links:
        by_layer[upper.layer].append((upper.order, lower.order))
    total = 0
    for pairs in by_layer.values():
        for i, (a1, b1) in enumerate(pairs):
            for a2, b2 in pairs[i + 1:]:
                if (a1 - a2) * (b1 - b2) < 0:
                    total += 1
    return total


def _isotonic(desired: list[float], gaps: list[float]) -> list[float]:
    """Closest positions (least squares) to `desired` keeping x[i+1] - x[i] >= gaps[i] (pool adjacent violators)."""
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    values = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, count]
    for value in values:
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean2, count2 = blocks.pop()
            mean1, count1 = blocks[-1]
            blocks[-1] = [(mean1 * count1 + mean2 * count2) / (count1 + count2), count1 + count2]
    fitted: list[float] = []
    for mean, count in blocks:
        fitted += [mean] * int(count)
    return [f + o for f, o in zip(fitted, offsets, strict=True)]


@dataclass
class _Layout:
    items: dict[str, _Item]
    rows: list[list[_Item]]
    chains: list[tuple[DiagramEdge, list[_Item], bool]]  # edge, items top to bottom, drawn upward
    width: float
    height: float


def layout(graph: FlowGraph) -> _Layout:
    back = _break_cycles(graph)
    oriented = [(e.target, e.source) if i in back else (e.source, e.target) for i, e in enumerate(graph.edges)]
    layer = _layers(graph, oriented)
    items = {n.id: _Item(n.id, layer[n.id], NODE_W, n) for n in graph.nodes}
    chains: list[tuple[DiagramEdge, list[_Item], bool]] = []
    for index, (edge, (upper, lower)) in enumerate(zip(graph.edges, oriented, strict=True)):
        if upper == lower:
            continue
        chain = [items[upper]]
        for step in range(layer[upper] + 1, layer[lower]):
            dummy = _Item(f"~{index}.{step}", step, DUMMY_W)
            items[dummy.key] = dummy
            chain.append(dummy)
        chain.append(items[lower])
        chains.append((edge, chain, index in back))
    depth = max((item.layer for item in items.values()), default=0) + 1
    rows: list[list[_Item]] = [[] for _ in range(depth)]
    for item in items.values():  # file order, then edge order: a stable first guess
        rows[item.layer].append(item)
    links = [(a, b) for _, chain, _ in chains for a, b in zip(chain, chain[1:], strict=False)]
    ups: dict[str, list[_Item]] = defaultdict(list)
    downs: dict[str, list[_Item]] = defaultdict(list)
    for a, b in links:
        downs[a.key].append(b)
        ups[b.key].append(a)

    def number() -> None:
        for row in rows:
            for position, item in enumerate(row):
                item.order = position

    number()
    best, best_rows = _crossings(rows, links), [list(r) for r in rows]
    for sweep in range(12):
        neighbours = ups if sweep % 2 == 0 else downs
        sequence = rows[1:] if sweep % 2 == 0 else rows[-2::-1]
        for row in sequence:
            def barycenter(item: _Item, near: dict[str, list[_Item]] = neighbours) -> float:
                found = near[item.key]
                return sum(n.order for n in found) / len(found) if found else item.order

            row.sort(key=barycenter)
            for position, item in enumerate(row):
                item.order = position
        count = _crossings(rows, links)
        if count < best:
            best, best_rows = count, [list(r) for r in rows]
    rows = best_rows
    number()

    for row in rows:  # first placement: packed from the left
        x = 0.0
        for item in row:
            item.x = x + item.width / 2
            x += item.width + H_GAP
    for sweep in range(16):
        sequence = rows if sweep % 2 == 0 else rows[::-1]
        for row in sequence:
            desired = []
            for item in row:
                near = ups[item.key] + downs[item.key]
                weight = 2.0 if item.node is None else 1.0  # keep long edges straight
                desired.append((sum(n.x for n in near) * weight + item.x) / (len(near) * weight + 1)
                               if near else item.x)
            gaps = [(a.width + b.width) / 2 + H_GAP for a, b in zip(row, row[1:], strict=False)]
            for item, x in zip(row, _isotonic(desired, gaps), strict=True):
                item.x = x
    left = min((item.x - item.width / 2 for item in items.values()), default=0.0)
    for item in items.values():
        item.x += MARGIN - left
    width = max((item.x + item.width / 2 for item in items.values()), default=0.0) + MARGIN
    return _Layout(items, rows, chains, width, depth * (NODE_H + V_GAP))


# --- SVG ------------------------------------------------------------------------------------------------

FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'
CHAR_W = 6.4  # average glyph width at 11.5px, for label boxes


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _node_lines(node: DiagramNode) -> list[str]:
    if node.kind == "outcome":
        assert node.level is not None
        words = f"{LEVEL_LABELS[node.level]} ({node.level.disposition.replace('_', ' ')})"
        return textwrap.wrap(words, 36)[:2]
    lines = textwrap.wrap(node.text, 38)
    return lines[:1] + ([textwrap.shorten(" ".join(lines[1:]), 38, placeholder="…")] if len(lines) > 1 else [])


def svg(flow: Flow, *, version: str = "") -> str:
    """The flow drawn as a standalone SVG document (also inlined in the dashboard)."""
    graph = flow_graph(flow)
    plan = layout(graph)
    legend_h = 86 + 16 * len(graph.anywhere)
    top = legend_h + MARGIN
    width = max(plan.width, 760.0)
    height = top + plan.height + MARGIN

    title = f"{graph.title} ({graph.flow_id} {version})" if version else f"{graph.title} ({graph.flow_id})"

    def y_of(item: _Item) -> float:
        return top + item.layer * (NODE_H + V_GAP) + NODE_H / 2

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-diagram" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{_attr(f"Flow {graph.flow_id}")}">',
        f"<title>{escape(title)}</title>",
        "<defs>",
    ]
    for name, color in (("normal", EDGE), ("red_flag", RED), ("checkin", CHECKIN)):
        out.append(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" '
                   f'markerHeight="10" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>')
    out += _legend(graph, version, legend_h)

    # ports: spread the edges leaving and entering a node along its bottom and top
    leaving: dict[str, list[tuple[float, int]]] = defaultdict(list)
    entering: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for index, (_, chain, _) in enumerate(plan.chains):
        leaving[chain[0].key].append((chain[1].x, index))
        entering[chain[-1].key].append((chain[-2].x, index))
    port_out: dict[int, float] = {}
    port_in: dict[int, float] = {}
    for ports, found in ((port_out, leaving), (port_in, entering)):
        for key, edges in found.items():
            item = plan.items[key]
            edges.sort()
            span = min(item.width - 40, 36.0 * (len(edges) - 1))
            for position, (_, index) in enumerate(edges):
                shift = -span / 2 + span * position / (len(edges) - 1) if len(edges) > 1 else 0.0
                ports[index] = item.x + shift

    labels: list[str] = []
    for index, (edge, chain, upward) in enumerate(plan.chains):
        points = [(port_out[index], y_of(chain[0]) + NODE_H / 2)]
        points += [(item.x, y_of(item)) for item in chain[1:-1]]
        points.append((port_in[index], y_of(chain[-1]) - NODE_H / 2))
        color = {"red_flag": RED, "checkin": CHECKIN}.get(edge.style, EDGE)
        dash = ' stroke-dasharray="6 4"' if edge.style == "checkin" else ""
        stroke_w = 2.6 if edge.style == "red_flag" else 1.4
        path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
            mid = (y2 - y1) / 2
            path += f" C{x1:.1f},{y1 + mid:.1f} {x2:.1f},{y2 - mid:.1f} {x2:.1f},{y2:.1f}"
        marker = "marker-start" if upward else "marker-end"
        tip = edge.note or f"{edge.source} → {edge.target}"
        out.append(f'<path class="edge edge-{edge.style}" d="{path}" fill="none" stroke="{color}" '
                   f'stroke-width="{stroke_w}"{dash} {marker}="url(#arrow-{edge.style})" '
                   f'data-source="{_attr(edge.source)}" data-target="{_attr(edge.target)}">'
                   f"<title>{escape(tip)}</title></path>")
        if edge.label:
            (x1, y1), (x2, y2) = points[0], points[1]
            lx, ly = x1 + (x2 - x1) * 0.3, y1 + min(22.0, (y2 - y1) * 0.4)
            if upward:
                (x1, y1), (x2, y2) = points[-1], points[-2]
                lx, ly = x1 + (x2 - x1) * 0.3, y1 - min(22.0, (y1 - y2) * 0.4)
            text = edge.label if len(edge.label) <= 28 else edge.label[:27] + "…"
            w = len(text) * CHAR_W + 8
            weight = ' font-weight="bold"' if edge.style == "red_flag" else ""
            labels.append(f'<g class="edge-label"><rect x="{lx - w / 2:.1f}" y="{ly - 9:.1f}" width="{w:.1f}" '
                          f'height="16" rx="3" fill="#ffffff" stroke="{color}" stroke-width="0.6"/>'
                          f'<text x="{lx:.1f}" y="{ly + 3.5:.1f}" text-anchor="middle" font-size="11" {FONT} '
                          f'fill="{color}"{weight}>{escape(text)}</text></g>')

    for item in plan.items.values():
        if item.node is None:
            continue
        node = item.node
        fill, stroke = COLORS[node.palette]
        x, y = item.x - NODE_W / 2, y_of(item) - NODE_H / 2
        radius = 22 if node.kind == "outcome" else (10 if node.kind == "question" else 2)
        border = 3.5 if node.id == graph.start else (2.2 if node.kind == "outcome" else 1.4)
        kind = f"{node.kind}, screening" if node.screening else node.kind
        if node.id == graph.start:
            kind = f"start · {kind}"
        out.append(f'<g class="node node-{node.kind}" data-node="{_attr(node.id)}" data-palette="{node.palette}">'
                   f"<title>{escape(f'{node.id} ({kind}): {node.text}')}</title>"
                   f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="{radius}" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="{border}"/>'
                   f'<text x="{item.x:.1f}" y="{y + 17:.1f}" text-anchor="middle" font-size="12.5" font-weight="bold"'
                   f' {FONT} fill="#212121">{escape(node.id)}'
                   f'<tspan font-weight="normal" font-size="10" fill="{stroke}"> {escape(kind)}</tspan></text>')
        for row, line in enumerate(_node_lines(node)):
            out.append(f'<text x="{item.x:.1f}" y="{y + 34 + row * 15:.1f}" text-anchor="middle" font-size="11" '
                       f'{FONT} fill="#37474f">{escape(line)}</text>')
        out.append("</g>")
    out += labels
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(graph: FlowGraph, version: str, height: float) -> list[str]:
    out = [f'<g class="legend"><rect x="{MARGIN}" y="{MARGIN / 2}" width="720" height="{height - 4}" rx="6" '
           'fill="#fafafa" stroke="#cfd8dc"/>',
           f'<text x="{MARGIN + 12}" y="{MARGIN / 2 + 22}" font-size="15" font-weight="bold" {FONT} '
           f'fill="#212121">{escape(graph.title)} — {escape(graph.flow_id)}'
           f'{escape(" version " + version) if version else ""}</text>']
    x = MARGIN + 12.0
    y = MARGIN / 2 + 44
    for palette in ("emergency", "nurse_callback", "clinic_queue", "self_care", "question", "info"):
        fill, stroke = COLORS[palette]
        name = palette.replace("_", " ")
        out.append(f'<rect x="{x:.0f}" y="{y - 11:.0f}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>'
                   f'<text x="{x + 19:.0f}" y="{y:.0f}" font-size="11" {FONT} fill="#37474f">{escape(name)}</text>')
        x += 30 + len(name) * CHAR_W
    out.append(f'<line x1="{x:.0f}" y1="{y - 4:.0f}" x2="{x + 26:.0f}" y2="{y - 4:.0f}" stroke="{RED}" '
               f'stroke-width="2.6"/><text x="{x + 31:.0f}" y="{y:.0f}" font-size="11" {FONT} fill="{RED}">'
               "red-flag answer</text>")
    y += 22
    out.append(f'<text x="{MARGIN + 12}" y="{y:.0f}" font-size="11.5" font-weight="bold" {FONT} fill="#212121">'
               "At any step (typed words and keywords):</text>")
    for what, target, red in graph.anywhere:
        y += 16
        out.append(f'<text x="{MARGIN + 24}" y="{y:.0f}" font-size="11" {FONT} fill="{RED if red else "#37474f"}">'
                   f"{escape(what)} → {escape(target)}</text>")
    out.append("</g>")
    return out
