"""YAML files validated by pydantic, with every problem reported as `file:line: where: reason`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

YamlPath = tuple[str | int, ...]
# libyaml's parser when PyYAML has it (its wheels do): ten times faster than the pure-Python one, same result.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Model = TypeVar("Model", bound=BaseModel)


class FileProblems(Exception):
    """A file that must not be used. str() lists one `file:line: where: reason` line per problem."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


def line_map(source: str) -> dict[YamlPath, int]:
    """Map each YAML path (('nodes', 'q1', 'choices', 0)) to its 1-based line."""
    lines: dict[YamlPath, int] = {}

    def walk(node: yaml.Node, path: YamlPath) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = path + (key.value,)
                walk(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, path + (index,))

    root = yaml.compose(source, Loader=SafeLoader)
    if root is not None:
        walk(root, ())
    return lines


def line_for(lines: dict[YamlPath, int], path: YamlPath) -> int:
    """The line of the deepest part of path the YAML has (pydantic adds union tags it lacks)."""
    best, found = 1, ()
    for part in path:
        candidate = found + (str(part),) if isinstance(part, str) else found + (part,)
        if candidate in lines:
            found = candidate
            best = lines[candidate]
    return best


def default_where(path: YamlPath) -> str:
    return ".".join(str(p) for p in path) or "file"


def read_source(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblems(str(path), [f"{path}:1: file: cannot read: {exc}"]) from None


def read_mapping(source: str, path_name: str) -> tuple[dict[Any, Any], dict[YamlPath, int]]:
    """The YAML mapping in source and the line of every path in it."""
    try:
        data: Any = yaml.load(source, Loader=SafeLoader)
        lines = line_map(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise FileProblems(path_name, [f"{path_name}:{line}: file: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise FileProblems(path_name, [f"{path_name}:1: file: expected a YAML mapping at the top"])
    return data, lines


def parse_model(source: str, path_name: str, model: type[Model],
                where: Callable[[YamlPath], str] = default_where) -> tuple[Model, dict[YamlPath, int]]:
    data, lines = read_mapping(source, path_name)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        problems = [f"{path_name}:{line_for(lines, tuple(err['loc']))}: {where(tuple(err['loc']))}: {err['msg']}"
                    for err in exc.errors()]
        raise FileProblems(path_name, problems) from None
