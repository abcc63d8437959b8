"""A flow's texts in another language, from a file beside it keyed by the same ids.

    flows/back_spasm.yaml       the flow and its English texts; `languages: [en, es]`
    flows/back_spasm.es.yaml    the Spanish texts, keyed by the same message, node, option and flag ids:

        messages: {help: "...", stop: "..."}
        nodes:
          q_faint:
            text: "..."
            hint: "..."
            channels: {voice: "..."}
            choices: {"yes": {label: "Sí", aliases: [...]}, "no": "No"}
        red_flags:
          bladder_bowel: {phrases: ["..."]}

A language file only adds texts: it cannot add a node, an option or a red flag, nor change where
an answer leads. Its texts are merged into the flow's data before validation, so every lint rule
(a text in every language, the same placeholders, the same options) sees all languages at once.
"""

from __future__ import annotations

from typing import Any

from .flow import DEFAULT_LANGUAGE

Path = tuple[str | int, ...]
_NODE_KEYS = ("text", "hint", "channels", "choices")


def merge_language(data: dict[Any, Any], lang: str, texts: dict[Any, Any],
                   lines: dict[Path, int]) -> tuple[dict[Path, int], list[tuple[Path, str]]]:
    """Merge one language file's texts into the flow's data (in place).

    Returns, for every path of the flow the file gave text for, its line in the language file (so a
    problem found later can name that file and line), and the problems found while merging, each at
    its path in the language file.
    """
    merger = _Merger(lang, lines)
    sections = {"messages": merger.messages, "nodes": merger.nodes, "red_flags": merger.red_flags}
    for key, value in texts.items():
        if key == "language":
            if value != lang:
                merger.problem((key,), f"says '{value}' but the file name says '{lang}'")
        elif key not in sections:
            merger.problem((key,), f"'{key}' is not part of a language file (messages, nodes, red_flags)")
        elif not isinstance(value, dict):
            merger.problem((key,), "expected a mapping keyed by the ids in the main file")
        else:
            sections[key](data.get(key), value)
    return merger.origins, merger.problems


class _Merger:
    def __init__(self, lang: str, lines: dict[Path, int]):
        self.lang = lang
        self.lines = lines
        self.origins: dict[Path, int] = {}
        self.problems: list[tuple[Path, str]] = []

    def problem(self, path: Path, reason: str) -> None:
        self.problems.append((path, reason))

    def _note(self, main: Path, here: Path) -> None:
        """main (a path of the flow) was given at `here` in this file; same depth, ids for indexes."""
        for depth in range(1, len(main) + 1):
            line = self.lines.get(here[:depth])
            if line is not None:
                self.origins.setdefault(main[:depth], line)

    def _text(self, container: dict[Any, Any], key: str, value: Any, main: Path, here: Path, what: str) -> None:
        current = container.get(key)
        if current is None:
            self.problem(here, f"the main file has no {what} here to translate")
            return
        if isinstance(current, str):
            current = {DEFAULT_LANGUAGE: current}
        elif not isinstance(current, dict):
            return  # the main file's own shape problem; validation reports it there
        if self.lang in current:
            self.problem(here, f"the '{self.lang}' text is also given in the main file; keep one")
            return
        container[key] = {**current, self.lang: value}
        self._note(main, here)
        self.origins[main + (self.lang,)] = self.lines.get(here, 1)

    def _phrases(self, container: dict[Any, Any], key: str, value: Any, main: Path, here: Path) -> None:
        if not isinstance(value, list):
            self.problem(here, "expected a list")
            return
        current = container.get(key)
        if current is None:
            current = {}
        elif isinstance(current, list):
            current = {DEFAULT_LANGUAGE: current}
        elif not isinstance(current, dict):
            return
        if self.lang in current:
            self.problem(here, f"the '{self.lang}' {key} are also given in the main file; keep one")
            return
        container[key] = {**current, self.lang: value}
        self._note(main, here)
        self.origins[main + (self.lang,)] = self.lines.get(here, 1)
        for index in range(len(value)):
            self.origins[main + (self.lang, index)] = self.lines.get(here + (index,), 1)

    def messages(self, main: Any, texts: dict[Any, Any]) -> None:
        if not isinstance(main, dict):
            return
        for name, value in texts.items():
            here = ("messages", name)
            if name not in main:
                self.problem(here, f"message '{name}' is not in the main file")
                continue
            self._text(main, name, value, here, here, "message")

    def nodes(self, main: Any, texts: dict[Any, Any]) -> None:
        for node_id, given in texts.items():
            here: Path = ("nodes", node_id)
            node = main.get(node_id) if isinstance(main, dict) else None
            if not isinstance(node, dict):
                self.problem(here, f"node '{node_id}' is not in the main file")
                continue
            if not isinstance(given, dict):
                self.problem(here, f"expected {', '.join(_NODE_KEYS)}")
                continue
            for key, value in given.items():
                if key in ("text", "hint"):
                    self._text(node, key, value, here + (key,), here + (key,), key)
                elif key == "channels":
                    self._channels(node, value, here)
                elif key == "choices":
                    self._choices(node, value, here)
                else:
                    self.problem(here + (key,), f"'{key}' is not translated here (only {', '.join(_NODE_KEYS)})")

    def _channels(self, node: dict[Any, Any], given: Any, here: Path) -> None:
        channels = node.get("channels")
        if not isinstance(given, dict):
            self.problem(here + ("channels",), "expected a mapping like {voice: ...}")
            return
        if not isinstance(channels, dict):
            self.problem(here + ("channels",), "the main file has no channel wording for this node")
            return
        for channel, value in given.items():
            path = here + ("channels", channel)
            self._text(channels, channel, value, path, path, f"'{channel}' wording")

    def _choices(self, node: dict[Any, Any], given: Any, here: Path) -> None:
        choices = node.get("choices")
        if not isinstance(choices, list):
            self.problem(here + ("choices",), "the main file has no options here")
            return
        if not isinstance(given, dict):
            self.problem(here + ("choices",), 'expected options keyed by id, like "yes": {label: ...}')
            return
        index = {choice.get("id"): i for i, choice in enumerate(choices) if isinstance(choice, dict)}
        for key, value in given.items():
            choice_id = _choice_id(key)
            path = here + ("choices", choice_id)
            if choice_id not in index:
                known = ", ".join(str(i) for i in index)
                self.problem(path, f"option '{choice_id}' is not an option in the main file ({known}): "
                                   "a question has the same options in every language")
                continue
            main = ("nodes", here[1], "choices", index[choice_id])
            if isinstance(value, str):
                value = {"label": value}
            if not isinstance(value, dict):
                self.problem(path, "expected {label: ..., aliases: [...]}")
                continue
            choice = choices[index[choice_id]]
            for key_, text in value.items():
                if key_ == "label":
                    self._text(choice, "label", text, main + ("label",), path + ("label",), "label")
                elif key_ == "aliases":
                    self._phrases(choice, "aliases", text, main + ("aliases",), path + ("aliases",))
                else:
                    self.problem(path + (key_,), f"'{key_}' is not translated here (only label, aliases)")

    def red_flags(self, main: Any, texts: dict[Any, Any]) -> None:
        for flag_id, given in texts.items():
            here: Path = ("red_flags", flag_id)
            flag = main.get(flag_id) if isinstance(main, dict) else None
            if not isinstance(flag, dict):
                self.problem(here, f"red flag '{flag_id}' is not in the main file")
                continue
            if not isinstance(given, dict):
                self.problem(here, "expected {phrases: [...]}")
                continue
            for key, value in given.items():
                if key in ("phrases", "near", "unless"):
                    self._phrases(flag, key, value, here + (key,), here + (key,))
                elif key == "confirm":
                    self._text(flag, key, value, here + (key,), here + (key,), "confirming question")
                else:
                    self.problem(here + (key,), "only phrases, near, unless and confirm are given per language (level "
                                                "and source are the main file's)")


def _choice_id(key: Any) -> str:
    # YAML 1.1 reads an unquoted `yes:` / `no:` key as a boolean.
    if key is True:
        return "yes"
    if key is False:
        return "no"
    return str(key)
