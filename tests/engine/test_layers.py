"""Guards on the tree's layering (issue #17, "Must show"): read from the source with ast, no database, no import.

Each guard names the file (and line) that breaks it, so a failure says where to look."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICE = ROOT / "service"
MAX_LINES = 400

# Only these may import twilio: the channel adapters and the outbound transport.
TWILIO_ALLOWED = ("service/channels/", "service/outbox/transports.py")
# The functional core imports nothing that talks to the outside world, and nothing of service/ outside itself.
ENGINE_FORBIDDEN = ("flask", "twilio", "sqlalchemy", "werkzeug", "alembic", "apscheduler")
# Packages whose Python may not hold emergency advice: a caller or a patient hears it only from the flows.
NO_PHRASES = ("runtime", "channels", "escalation", "callbacks", "checkins")


def _modules() -> list[Path]:
    return sorted(p for p in SERVICE.rglob("*.py") if "migrations" not in p.relative_to(SERVICE).parts[:1])


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache  # each file parsed once for all the guards
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _typing_only(tree: ast.Module) -> set[int]:
    """The ids of imports under `if TYPE_CHECKING:`: never run, so they make no cycle."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(inner) for statement in node.body for inner in ast.walk(statement))
    return ids


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, absolute module name, the names it may also mean) for every import in the file, at any depth
    (function-level ones too). `from . import x` may mean the module package.x, so that is a candidate."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    tree = _tree(path)
    typing_only = _typing_only(tree)
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            yield node.lineno, module, [f"{module}.{alias.name}" for alias in node.names]


def test_no_module_in_service_is_over_400_lines() -> None:
    long = [f"{_rel(p)}: {n} lines" for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"modules over {MAX_LINES} lines (split them): " + "; ".join(long)


def test_twilio_is_imported_only_by_the_channels_and_the_transport() -> None:
    found = [
        f"{_rel(p)}:{line} imports {name}"
        for p in _modules()
        if not _rel(p).startswith(TWILIO_ALLOWED)
        for line, name, _ in _imports(p)
        if name == "twilio" or name.startswith("twilio.")
    ]
    assert not found, "twilio outside channels/ and outbox/transports.py: " + "; ".join(found)


def test_the_engine_imports_no_framework_and_nothing_outside_itself() -> None:
    found = []
    for p in (SERVICE / "engine").rglob("*.py"):
        for line, name, _ in _imports(p):
            top = name.split(".")[0]
            outside = name.startswith("service.") and not name.startswith("service.engine")
            if top in ENGINE_FORBIDDEN or outside or name == "service":
                found.append(f"{_rel(p)}:{line} imports {name}")
    assert not found, "the engine must stay pure: " + "; ".join(found)


def _import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported service module: line}, edges only to modules that exist as files."""
    paths = {_module_name(p): p for p in _modules()}
    graph: dict[str, dict[str, int]] = {}
    for name, path in paths.items():
        edges: dict[str, int] = {}
        for line, imported, also in _imports(path):
            # `from pkg import mod` depends on pkg.mod; on pkg itself only for names that are not modules.
            modules = [candidate for candidate in also if candidate in paths]
            for target in modules if modules and len(modules) == len(also) else [imported, *modules]:
                if target in paths and target != name:
                    edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """A path a -> b -> ... -> a, or None. Iterative DFS with colours."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for start in sorted(graph):
        if colour[start] != white:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        colour[start] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = black
                stack.pop()
            elif colour[child] == grey:
                path = [n for n, _ in stack]
                return path[path.index(child) :] + [child]
            elif colour[child] == white:
                colour[child] = grey
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_no_import_cycles_among_service_modules() -> None:
    graph = _import_graph()
    cycle = _find_cycle(graph)
    if cycle:
        steps = [f"{a} (line {graph[a][b]}) -> {b}" for a, b in zip(cycle, cycle[1:], strict=False)]
        pytest.fail("import cycle: " + "; ".join(steps))


def test_the_cycle_finder_reports_a_cycle() -> None:
    """The guard above can fail: a made-up graph with a cycle is found, with its path."""
    assert _find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b": 1}, "b": {}}) is None


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_no_emergency_advice_in_python_outside_the_flows() -> None:
    """"911" in a string of runtime, channel, escalation, callback or check-in code is a patient-facing phrase
    that `flows check` never sees (translation, 911 rules): it belongs in a flow file. Docstrings may name it."""
    found = []
    for package in NO_PHRASES:
        for p in sorted((SERVICE / package).rglob("*.py")):
            tree = _tree(p)
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and "911" in node.value
                    and id(node) not in docs
                ):
                    found.append(f"{_rel(p)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "emergency words in Python (move them to a flow's messages): " + "; ".join(found)
