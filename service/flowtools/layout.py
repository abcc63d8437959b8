"""Where each node of a flow's picture goes: a small layered layout (Sugiyama style). Break cycles,
longest-path layers, dummy points on long edges, barycenter ordering, then x positions by isotonic
regression so edges run as straight as the order allows. Pure: a FlowGraph in, positions out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .graph import DiagramEdge, DiagramNode, FlowGraph

NODE_W, NODE_H, DUMMY_W = 240, 62, 14
H_GAP, V_GAP, MARGIN = 28, 58, 24


@dataclass
class Item:
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


def _crossings(rows: list[list[Item]], links: list[tuple[Item, Item]]) -> int:
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
class Layout:
    items: dict[str, Item]
    rows: list[list[Item]]
    chains: list[tuple[DiagramEdge, list[Item], bool]]  # edge, items top to bottom, drawn upward
    width: float
    height: float


def layout(graph: FlowGraph) -> Layout:
    back = _break_cycles(graph)
    oriented = [(e.target, e.source) if i in back else (e.source, e.target) for i, e in enumerate(graph.edges)]
    layer = _layers(graph, oriented)
    items = {n.id: Item(n.id, layer[n.id], NODE_W, n) for n in graph.nodes}
    chains: list[tuple[DiagramEdge, list[Item], bool]] = []
    for index, (edge, (upper, lower)) in enumerate(zip(graph.edges, oriented, strict=True)):
        if upper == lower:
            continue
        chain = [items[upper]]
        for step in range(layer[upper] + 1, layer[lower]):
            dummy = Item(f"~{index}.{step}", step, DUMMY_W)
            items[dummy.key] = dummy
            chain.append(dummy)
        chain.append(items[lower])
        chains.append((edge, chain, index in back))
    depth = max((item.layer for item in items.values()), default=0) + 1
    rows: list[list[Item]] = [[] for _ in range(depth)]
    for item in items.values():  # file order, then edge order: a stable first guess
        rows[item.layer].append(item)
    links = [(a, b) for _, chain, _ in chains for a, b in zip(chain, chain[1:], strict=False)]
    ups: dict[str, list[Item]] = defaultdict(list)
    downs: dict[str, list[Item]] = defaultdict(list)
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
            def barycenter(item: Item, near: dict[str, list[Item]] = neighbours) -> float:
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
    return Layout(items, rows, chains, width, depth * (NODE_H + V_GAP))
