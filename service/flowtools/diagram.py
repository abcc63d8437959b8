"""A flow as a picture: Mermaid text and a self-drawn SVG, both from the loaded flow, so they match what runs.

Pure: the flow model in, text out (no Flask, database or external tools). graph.py turns the flow into
nodes and edges, layout.py places them; only presentation attributes are used (no <style>), so the SVG
renders under a strict CSP.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from xml.sax.saxutils import escape

from ..engine.flow import Flow
from .graph import LEVEL_LABELS, DiagramNode, FlowGraph, flow_graph
from .layout import MARGIN, NODE_H, NODE_W, V_GAP, Item, layout

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

    def y_of(item: Item) -> float:
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
