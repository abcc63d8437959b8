"""Load a flow file: YAML -> pydantic model -> lint, every problem named by file, line and reason.

A flow in several languages is one main file (`back_spasm.yaml`, `languages: [en, es]`) plus one
language file per extra language beside it (`back_spasm.es.yaml`, see translations.py). The texts of
the language files are merged in before validation and lint. A problem in a language's text names
that language's file and line.

What was served is kept as one text (`LoadedFlow.source`): the main file followed by each language
file under a `#@ language file: <name>` line, so the content version covers every file and a stored
version can be loaded again exactly as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ..yamlfile import FileProblems, YamlPath, line_for, read_mapping, read_source
from .flow import Flow
from .lint import Problem, lint
from .translations import merge_language

FlowError = FileProblems  # the name callers of the flow loader think in
_NODE_TAGS = ("question", "free", "info", "outcome")
_LANGUAGE_FILE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3})\.yaml$")
_BUNDLE_MARK = "#@ language file: "
_BUNDLE_SPLIT = re.compile(rf"^{re.escape(_BUNDLE_MARK)}(\S+)\n", re.MULTILINE)
_QUOTED_LANGUAGE = re.compile(r"'([a-z]{2,3})'")


@dataclass(frozen=True)
class LoadedFlow:
    flow: Flow
    path: str
    version: str  # content hash of the main file and its language files: conversations are pinned to it
    source: str  # the main file, then each language file (see bundle())
    language_files: tuple[str, ...] = ()


def content_version(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def where(path: YamlPath) -> str:
    if len(path) >= 2 and path[0] in ("nodes", "red_flags"):
        kind = "node" if path[0] == "nodes" else "red flag"
        rest = ".".join(str(p) for p in path[2:] if p not in _NODE_TAGS)
        return f"{kind} '{path[1]}'" + (f" ({rest})" if rest else "")
    return ".".join(str(p) for p in path) or "file"


def language_file(main: str | Path, lang: str) -> Path:
    """flows/back_spasm.yaml, 'es' -> flows/back_spasm.es.yaml"""
    main = Path(main)
    return main.with_name(f"{main.stem}.{lang}.yaml")


def is_language_file(path: str | Path) -> bool:
    return _LANGUAGE_FILE.match(Path(path).name) is not None


def main_file_of(path: str | Path) -> Path:
    """The flow a language file belongs to (a main file is its own)."""
    match = _LANGUAGE_FILE.match(Path(path).name)
    return Path(path).with_name(match.group("stem") + ".yaml") if match else Path(path)


def flow_files(directory: str | Path) -> list[Path]:
    """The flows in a directory: every *.yaml except language files."""
    return sorted(p for p in Path(directory).glob("*.yaml") if not is_language_file(p))


def bundle(main_source: str, language_sources: Mapping[str, str]) -> str:
    """One text holding the main file and its language files (by file name); just the main file if none."""
    if not language_sources:
        return main_source
    parts = [main_source if main_source.endswith("\n") else main_source + "\n"]
    for name in sorted(language_sources):
        text = language_sources[name]
        parts.append(f"{_BUNDLE_MARK}{name}\n{text if text.endswith(chr(10)) else text + chr(10)}")
    return "".join(parts)


def unbundle(source: str) -> tuple[str, dict[str, str]]:
    pieces = _BUNDLE_SPLIT.split(source)
    return pieces[0], dict(zip(pieces[1::2], pieces[2::2], strict=True))


def _extra_languages(data: dict[object, object]) -> list[str]:
    languages = data.get("languages")
    if not isinstance(languages, list):
        return []
    return [lang for lang in languages[1:] if isinstance(lang, str)]


def _on_disk(path_name: str, languages: list[str]) -> dict[str, str]:
    found = {}
    for lang in languages:
        candidate = language_file(path_name, lang)
        if candidate.is_file():
            found[candidate.name] = read_source(candidate)
    return found


@dataclass(frozen=True)
class _LanguageFile:
    name: str  # as problems name it: beside the main file
    origins: dict[YamlPath, int]  # flow path -> line in this file


def parse_flow(source: str, path_name: str = "<flow>",
               language_sources: Mapping[str, str] | None = None) -> LoadedFlow:
    """Parse and lint a flow. Its language files come from `language_sources` (file name -> text), else from
    the source itself when it is a stored bundle, else from the files beside `path_name`."""
    main_source, bundled = unbundle(source)
    data, lines = read_mapping(main_source, path_name)
    languages = _extra_languages(data)
    if language_sources is None:
        language_sources = bundled if bundled else _on_disk(path_name, languages)
    problems: list[str] = []
    files: dict[str, _LanguageFile] = {}
    used: dict[str, str] = {}
    for lang in languages:
        name = language_file(path_name, lang).name
        if name not in language_sources:
            continue
        shown = str(Path(path_name).with_name(name)) if path_name != "<flow>" else name
        used[name] = language_sources[name]
        try:
            texts, text_lines = read_mapping(language_sources[name], shown)
        except FileProblems as error:
            problems += error.problems
            continue
        origins, merge_problems = merge_language(data, lang, texts, text_lines)
        problems += [f"{shown}:{line_for(text_lines, path)}: {where(path)}: {reason}"
                     for path, reason in merge_problems]
        files[lang] = _LanguageFile(shown, origins)

    def locate(path: YamlPath, lang: str | None) -> str:
        if lang in files:
            found = files[lang]  # type: ignore[index]
            return f"{found.name}:{line_for(found.origins, path)}: {where(path)}"
        return f"{path_name}:{line_for(lines, path)}: {where(path)}"

    try:
        flow = Flow.model_validate(data)
    except ValidationError as exc:
        problems += [f"{locate(tuple(err['loc']), _language_of(tuple(err['loc']), '', languages))}: {err['msg']}"
                     for err in exc.errors()]
        raise FlowError(path_name, problems) from None
    found = lint(flow)
    problems += [f"{locate(p.path, _language_of(p.path, p.reason, languages, p))}: {p.reason}" for p in found]
    problems += _missing_files(path_name, lines, languages, files, found)
    if problems:
        raise FlowError(path_name, problems)
    stored = source if bundled and language_sources is bundled else bundle(main_source, used)
    return LoadedFlow(flow=flow, path=path_name, version=content_version(stored), source=stored,
                      language_files=tuple(files[lang].name for lang in languages if lang in files))


def _language_of(path: YamlPath, reason: str, languages: list[str], problem: Problem | None = None) -> str | None:
    """Which extra language a problem is about: the rule says, or the path or reason names it."""
    if problem is not None and problem.lang is not None:
        return problem.lang
    for part in path:
        if part in languages:
            return str(part)
    quoted = _QUOTED_LANGUAGE.findall(reason)
    return next((lang for lang in quoted if lang in languages), None)


def _missing_files(path_name: str, lines: dict[YamlPath, int], languages: list[str],
                   files: dict[str, _LanguageFile], found: list[Problem]) -> list[str]:
    """One line saying where the texts were expected, when a language lacks texts and its file is absent."""
    missing = []
    for lang in languages:
        lacking = any(_language_of(p.path, p.reason, languages, p) == lang for p in found)
        if lang not in files and lacking:
            missing.append(f"{path_name}:{line_for(lines, ('languages',))}: languages: '{lang}' texts go in "
                           f"{language_file(path_name, lang).name} beside this file, and it was not found")
    return missing


def load_flow(path: str | Path) -> LoadedFlow:
    """A flow file and its language files. Given a language file, the flow it belongs to."""
    path = main_file_of(path)
    return parse_flow(read_source(path), str(path))


def parse_stored(source: str, path_name: str) -> LoadedFlow:
    """A version as it was served (from the database): never mixed with the files on disk today."""
    _, bundled = unbundle(source)
    return parse_flow(source, path_name, bundled)
