"""The flows being served, and every version ever served (conversations finish on their own)."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .engine.loader import (
    SHARED_DIR,
    FlowError,
    LoadedFlow,
    flow_files,
    is_language_file,
    load_flow,
    main_file_of,
    parse_stored,
)
from .engine.state import ACTIVE, State
from .engine.step import step
from .models import FlowVersion

log = logging.getLogger(__name__)

DEFAULT_FLOW = "back_spasm"
_VERSIONS_INSERTED = "flow_versions_inserted"  # session.info: versions this transaction recorded


# Texts a new flow is tried on before it is served: they build what the engine builds once per flow or per
# process on first use (the red-flag patterns, the typo dictionaries, the answer parser's patterns).
WARM_UP_TEXTS = ("hi", "no", "yes", "maybe", "si", "my legz are numb")


def warm_up(loaded: LoadedFlow) -> None:
    """Run a few texts through the engine, so the first patients' webhooks do not pay for it: that took
    seconds, inside their transactions, so every other webhook waited too (bench/load.py, the first
    requests after a start: 4 to 8 s). Never stops a start or a reload: a text that fails here fails the
    same for a patient, and the answer to that is the safe fallback, not a line that will not start."""
    state = State()
    for text in WARM_UP_TEXTS:
        try:
            result = step(loaded.flow, state, text, {})
        except Exception:
            log.exception("flows.warm_up_failed flow=%s", loaded.flow.id)
            return
        state = result.state if result.state.status == ACTIVE else State()


def sources_of(path: Path) -> list[Path]:
    """Every file a flow is read from: the flow file, its language files and the shared files."""
    siblings = [p for p in path.parent.glob(f"{path.stem}.*.yaml") if is_language_file(p)]
    return [path, *sorted(siblings), *sorted((path.parent / SHARED_DIR).glob("*.yaml"))]


_PARSED: OrderedDict[str, LoadedFlow] = OrderedDict()  # the content of a flow's files -> the flow, parsed and warm
_PARSED_KEPT = 8
_parsed_lock = threading.Lock()


def _content_key(path: Path) -> str:
    digest = hashlib.sha256()
    for source in sources_of(path):
        digest.update(str(source).encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


def parsed_once(path: Path) -> LoadedFlow:
    """A flow parsed, linted and warmed up once per process for each content of its files: every app built in one
    process (the web app, its clock, `simulate`, `flows test`, each test's app) shares it, where each parsed and
    compiled it again (a tenth of a second an app). Keyed by the bytes, not the times: an edit is a new parse."""
    key = _content_key(path)
    with _parsed_lock:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    loaded = load_flow(path)
    warm_up(loaded)
    if _content_key(path) != key:
        return loaded  # edited while it was read: served, not kept under content it may not have
    with _parsed_lock:
        _PARSED[key] = loaded
        while len(_PARSED) > _PARSED_KEPT:
            _PARSED.popitem(last=False)
    return loaded


class FlowStore:
    """Loads every flows/*.yaml at start (a bad file stops the start), then notices edits.

    A flow's language files (back_spasm.es.yaml) are part of it, not flows of their own: editing
    one reloads its flow.

    An edited file that fails the lint is not served: the last good version stays current and
    the problem is logged, so a typo cannot take the line down.
    """

    def __init__(self, flows_dir: str | Path, default_flow: str = DEFAULT_FLOW):
        # A directory of flows, or one flow file (the simulator's --flow).
        path = Path(flows_dir)
        self.dir, self._only = (path.parent, main_file_of(path)) if path.is_file() else (path, None)
        self._lock = threading.Lock()
        self._current: dict[str, LoadedFlow] = {}
        self._stamps: dict[Path, tuple[tuple[str, int], ...]] = {}
        self._watched: tuple[str, ...] = ()  # the folders and every file read, to notice an edit cheaply
        self._watch_stamp: tuple[int, ...] | None = None
        self._by_version: dict[str, LoadedFlow] = {}
        self._recorded: set[str] = set()  # versions known to be in flow_versions (remember)
        for path in self._files():
            self._load(path, strict=True)
        if not self._current:
            raise FlowError(str(self.dir), [f"{self.dir}:1: file: no flow files (*.yaml) found"])
        self.default_id = default_flow if default_flow in self._current else sorted(self._current)[0]

    def _files(self) -> list[Path]:
        return [self._only] if self._only is not None else flow_files(self.dir)

    @staticmethod
    def _stamp(path: Path) -> tuple[tuple[str, int], ...]:
        """The flow file, its language files and the shared files, with their modification times."""
        return tuple((str(p), p.stat().st_mtime_ns) for p in sources_of(path))

    def _load(self, path: Path, strict: bool) -> None:
        try:
            stamp = self._stamp(path)
            loaded = parsed_once(path)
        except FlowError as error:
            if strict:
                raise
            log.error("flows.reload_rejected file=%s problems=%d", path.name, len(error.problems))
            return
        self._stamps[path] = stamp
        self._current[loaded.flow.id] = loaded
        self._by_version[loaded.version] = loaded

    def _modified(self) -> tuple[int, ...] | None:
        try:
            return tuple(os.stat(name).st_mtime_ns for name in self._watched)
        except OSError:
            return None

    def _refresh(self) -> None:
        # Every webhook asks for the current flow: a stat of each folder and flow file (a file added, removed
        # or saved by rename changes its folder's time) instead of globbing the folders each time, a
        # sixteenth of a text's CPU (bench/sms_cost.py --profile). A rejected edit is read once, not on
        # every webhook until it is fixed.
        if self._watch_stamp is not None and self._modified() == self._watch_stamp:
            return
        folders = [folder for folder in (self.dir, self.dir / SHARED_DIR) if folder.is_dir()]
        self._watched = (*map(str, folders), *sorted(str(f) for folder in folders for f in folder.glob("*.yaml")))
        self._watch_stamp = self._modified()  # before reading: an edit made while reading is seen next time
        self._rescan()

    def _rescan(self) -> None:
        for path in self._files():
            try:
                changed = self._stamp(path) != self._stamps.get(path)
            except OSError:
                continue
            if changed:
                self._load(path, strict=False)

    def current(self, flow_id: str | None = None) -> LoadedFlow:
        with self._lock:
            self._refresh()
            return self._current[flow_id or self.default_id]

    def all_current(self) -> list[LoadedFlow]:
        with self._lock:
            self._refresh()
            return [self._current[k] for k in sorted(self._current)]

    def pinned(self, session: Session, flow_id: str, version: str) -> LoadedFlow:
        """The exact version a conversation started on, from memory or from the database."""
        with self._lock:
            found = self._by_version.get(version)
        if found is not None:
            return found
        row = session.get(FlowVersion, version)
        if row is None:  # never recorded (should not happen): the current version is the safe choice
            log.error("flows.version_missing flow=%s version=%s", flow_id, version)
            return self.current(flow_id)
        loaded = parse_stored(row.source, row.path)
        with self._lock:
            self._by_version[version] = loaded
        return loaded

    def remember(self, session: Session, loaded: LoadedFlow, now: datetime) -> None:
        """Record the version a conversation starts on. A row found was committed (rows are never deleted),
        so it is looked for once per process, not on every new conversation (loading the flow's source)."""
        if loaded.version in self._recorded:
            return
        if session.get(FlowVersion, loaded.version) is not None:
            if loaded.version not in session.info.get(_VERSIONS_INSERTED, ()):  # not this transaction's own
                self._recorded.add(loaded.version)
            return
        # Several web processes may start the first conversation on a new version at once.
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(FlowVersion).values(
            version=loaded.version, flow_id=loaded.flow.id, path=Path(loaded.path).name, source=loaded.source,
            first_served_at=now).on_conflict_do_nothing(index_elements=["version"]))
        session.info.setdefault(_VERSIONS_INSERTED, set()).add(loaded.version)
