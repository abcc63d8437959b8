"""Load a flow file: YAML -> pydantic model -> lint, every problem named by file, line and reason.

A flow in several languages is one main file (`back_spasm.yaml`, `languages: [en, es]`) plus one
language file per extra language beside it (`back_spasm.es.yaml`, see translations.py). The texts of
the language files are merged in before validation and lint. A problem in a language's text names
that language's file and line.

A flow also includes shared files (`include: [universal]`: flows/shared/universal.yaml and its
language files): the emergency signs every flow must catch, their outcomes, and the routing of first
texts that are not about the flow's complaint. Their red flags come before the flow's own.

What was served is kept as one text (`LoadedFlow.source`): the main file followed by each language
file under a `#@ language file: <name>` line and each included file under `#@ included file: <name>`,
so the content version covers every file and a stored version can be loaded again exactly as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from .flow import Flow
from .lint import lint
from .problem import Problem
from .translations import merge_language
from .yamlfile import FileProblems, YamlPath, line_for, read_mapping, read_source

FlowError = FileProblems  # the name callers of the flow loader think in
_NODE_TAGS = ("question", "free", "info", "outcome")
_LANGUAGE_FILE = re.compile(r"^(?P<stem>.+)\.(?P<lang>[a-z]{2,3})\.yaml$")
_BUNDLE_MARK = "#@ language file: "
_INCLUDE_MARK = "#@ included file: "
_BUNDLE_SPLIT = re.compile(r"^#@ (language|included) file: (\S+)\n", re.MULTILINE)
SHARED_DIR = "shared"  # included files live in flows/shared/, so they are never served as flows
_PACKAGED_FLOWS = Path(__file__).resolve().parents[2] / "flows"
_QUOTED_LANGUAGE = re.compile(r"'([a-z]{2,3})'")


@dataclass(frozen=True)
class LoadedFlow:
    flow: Flow
    path: str
    version: str  # content hash of the main file and its language files: conversations are pinned to it
    source: str  # the main file, then each language file (see bundle())
    language_files: tuple[str, ...] = ()
    shared_red_flags: tuple[tuple[str, str], ...] = ()  # (red flag id, the included file it comes from)


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


def bundle(main_source: str, language_sources: Mapping[str, str],
           included_sources: Mapping[str, str] | None = None) -> str:
    """One text holding the main file, its language files and its included files (by file name); just the
    main file if it has none."""
    if not language_sources and not included_sources:
        return main_source
    parts = [main_source if main_source.endswith("\n") else main_source + "\n"]
    for mark, sources in ((_BUNDLE_MARK, language_sources), (_INCLUDE_MARK, included_sources or {})):
        for name in sorted(sources):
            text = sources[name]
            parts.append(f"{mark}{name}\n{text if text.endswith(chr(10)) else text + chr(10)}")
    return "".join(parts)


def unbundle(source: str) -> tuple[str, dict[str, str]]:
    """The main file and its language files (unbundle_all() also gives the included files)."""
    main, languages, _ = unbundle_all(source)
    return main, languages


def unbundle_all(source: str) -> tuple[str, dict[str, str], dict[str, str]]:
    pieces = _BUNDLE_SPLIT.split(source)
    languages: dict[str, str] = {}
    included: dict[str, str] = {}
    for kind, name, text in zip(pieces[1::3], pieces[2::3], pieces[3::3], strict=True):
        (languages if kind == "language" else included)[name] = text
    return pieces[0], languages, included


def included_paths(flow_path: str | Path, name: str, languages: list[str]) -> list[Path]:
    """flows/back_spasm.yaml, 'universal' -> flows/shared/universal.yaml and its language files that exist
    (the packaged flows/shared when the flow has no shared folder beside it: a flow given as text)."""
    folder = Path(flow_path).parent / SHARED_DIR
    if not (folder / f"{name}.yaml").is_file():
        folder = _PACKAGED_FLOWS / SHARED_DIR
    main = folder / f"{name}.yaml"
    found = [main] if main.is_file() else []
    return found + [p for lang in languages if (p := language_file(main, lang)).is_file()]


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
               language_sources: Mapping[str, str] | None = None,
               included_sources: Mapping[str, str] | None = None) -> LoadedFlow:
    """Parse and lint a flow. Its language files come from `language_sources` (file name -> text), else from
    the source itself when it is a stored bundle, else from the files beside `path_name`; its included files
    likewise from `included_sources`, the bundle, or flows/shared/."""
    main_source, bundled, bundled_included = unbundle_all(source)
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
        problems += _merge_language_file(data, lang, shown, language_sources[name], files)
    if included_sources is None:
        included_sources = bundled_included if bundled_included else None
    owners, included_used, include_problems = _merge_includes(data, lines, path_name, languages, included_sources)
    problems += include_problems

    def locate(path: YamlPath, lang: str | None) -> str:
        owner = owners.get(tuple(path[:2]))
        if owner is not None:
            main_name, main_lines, owner_files = owner
            if lang in owner_files:
                found = owner_files[lang]  # type: ignore[index]
                return f"{found.name}:{line_for(found.origins, path)}: {where(path)}"
            return f"{main_name}:{line_for(main_lines, path)}: {where(path)}"
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
    stored = source if bundled and language_sources is bundled else bundle(main_source, used, included_used)
    return LoadedFlow(flow=flow, path=path_name, version=content_version(stored), source=stored,
                      language_files=tuple(files[lang].name for lang in languages if lang in files),
                      shared_red_flags=tuple((key, Path(owner[0]).name) for (section, key), owner in owners.items()
                                             if section == "red_flags"))


def _merge_language_file(data: dict[object, object], lang: str, shown: str, text: str,
                         files: dict[str, _LanguageFile]) -> list[str]:
    try:
        texts, text_lines = read_mapping(text, shown)
    except FileProblems as error:
        return error.problems
    origins, merge_problems = merge_language(data, lang, texts, text_lines)
    files[lang] = _LanguageFile(shown, origins)
    return [f"{shown}:{line_for(text_lines, path)}: {where(path)}: {reason}" for path, reason in merge_problems]


_Owner = tuple[str, dict[YamlPath, int], dict[str, _LanguageFile]]
_SHARED_SECTIONS = ("red_flags", "nodes", "messages", "openings")


def _merge_includes(data: dict[object, object], lines: dict[YamlPath, int], path_name: str, languages: list[str],
                    sources: Mapping[str, str] | None) -> tuple[dict[YamlPath, _Owner], dict[str, str], list[str]]:
    """Merge each included file (and its languages the flow speaks) into the flow's data, in place.
    Returns which file owns each merged entry (for line numbers), the sources used, and the problems."""
    names = data.get("include")
    if not isinstance(names, list):
        return {}, {}, []
    owners: dict[YamlPath, _Owner] = {}
    used: dict[str, str] = {}
    problems: list[str] = []
    include_line = f"{path_name}:{line_for(lines, ('include',))}"
    for name in names:
        if sources is not None:
            texts = {n: t for n, t in sources.items() if n == f"{name}.yaml" or n.startswith(f"{name}.")}
            shown_dir = ""
        else:
            paths = included_paths(path_name, str(name), languages)
            texts = {p.name: read_source(p) for p in paths}
            shown_dir = str(paths[0].parent) + "/" if paths else ""
        main_name = f"{name}.yaml"
        if main_name not in texts:
            problems.append(f"{include_line}: include: '{name}' was not found in flows/{SHARED_DIR}/")
            continue
        shown = shown_dir + main_name
        try:
            shared, shared_lines = read_mapping(texts[main_name], shown)
        except FileProblems as error:
            problems += error.problems
            continue
        used[main_name] = texts[main_name]
        shared_files: dict[str, _LanguageFile] = {}
        for lang in languages:
            lang_name = language_file(main_name, lang).name
            if lang_name in texts:
                used[lang_name] = texts[lang_name]
                problems += _merge_language_file(shared, lang, shown_dir + lang_name, texts[lang_name], shared_files)
        for section in _SHARED_SECTIONS:
            given = shared.get(section)
            if not isinstance(given, dict):
                continue
            own = data.get(section)
            own = dict(own) if isinstance(own, dict) else {}
            for key in given:
                if key not in own:
                    owners.setdefault((section, key), (shown, shared_lines, shared_files))
                elif section in ("red_flags", "nodes"):  # a message or opening the flow gives is its own
                    problems.append(f"{path_name}:{line_for(lines, (section, key))}: "
                                    f"{where((section, key))}: also defined in {main_name}; use another id")
            # Shared entries first: at the same level, an emergency of any complaint wins.
            data[section] = {**given, **own}
        for key in shared:
            if key not in _SHARED_SECTIONS and key not in ("id", "title", "languages", "shared"):
                problems.append(f"{shown}:{line_for(shared_lines, (key,))}: {key}: not part of an included file "
                                f"({', '.join(_SHARED_SECTIONS)})")
    return owners, used, problems


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
    _, bundled, included = unbundle_all(source)
    return parse_flow(source, path_name, bundled, included)
