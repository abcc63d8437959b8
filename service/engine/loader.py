"""Load a flow file: YAML -> pydantic model -> lint, every problem named by file, line and reason."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..yamlfile import FileProblems, YamlPath, line_for, parse_model, read_source
from .flow import Flow
from .lint import lint

FlowError = FileProblems  # the name callers of the flow loader think in
_NODE_TAGS = ("question", "free", "info", "outcome")


@dataclass(frozen=True)
class LoadedFlow:
    flow: Flow
    path: str
    version: str  # content hash: conversations are pinned to it
    source: str


def content_version(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def where(path: YamlPath) -> str:
    if len(path) >= 2 and path[0] in ("nodes", "red_flags"):
        kind = "node" if path[0] == "nodes" else "red flag"
        rest = ".".join(str(p) for p in path[2:] if p not in _NODE_TAGS)
        return f"{kind} '{path[1]}'" + (f" ({rest})" if rest else "")
    return ".".join(str(p) for p in path) or "file"


def parse_flow(source: str, path_name: str = "<flow>") -> LoadedFlow:
    flow, lines = parse_model(source, path_name, Flow, where)
    problems = lint(flow)
    if problems:
        raise FlowError(path_name, [f"{path_name}:{line_for(lines, p.path)}: {where(p.path)}: {p.reason}"
                                    for p in problems])
    return LoadedFlow(flow=flow, path=path_name, version=content_version(source), source=source)


def load_flow(path: str | Path) -> LoadedFlow:
    return parse_flow(read_source(path), str(path))
