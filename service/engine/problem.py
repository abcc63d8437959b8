"""A flow's safety problem: where (a YAML path), why, and in which language. The lint rules yield them; the
loader turns each into `file:line: where: reason`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    path: tuple[str | int, ...]
    reason: str
    lang: str | None = None  # the language at fault, so the loader can name that language's file
