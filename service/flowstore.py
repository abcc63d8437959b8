"""The flows being served, and every version ever served (conversations finish on their own)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from .engine.loader import FlowError, LoadedFlow, load_flow, parse_flow
from .models import FlowVersion

log = logging.getLogger(__name__)

DEFAULT_FLOW = "back_spasm"


class FlowStore:
    """Loads every flows/*.yaml at start (a bad file stops the start), then notices edits.

    An edited file that fails the lint is not served: the last good version stays current and
    the problem is logged, so a typo cannot take the line down.
    """

    def __init__(self, flows_dir: str | Path, default_flow: str = DEFAULT_FLOW):
        # A directory of flows, or one flow file (the simulator's --flow).
        path = Path(flows_dir)
        self.dir, self._pattern = (path.parent, path.name) if path.is_file() else (path, "*.yaml")
        self._lock = threading.Lock()
        self._current: dict[str, LoadedFlow] = {}
        self._mtimes: dict[Path, float] = {}
        self._by_version: dict[str, LoadedFlow] = {}
        for path in sorted(self.dir.glob(self._pattern)):
            self._load(path, strict=True)
        if not self._current:
            raise FlowError(str(self.dir), [f"{self.dir}:1: file: no flow files (*.yaml) found"])
        self.default_id = default_flow if default_flow in self._current else sorted(self._current)[0]

    def _load(self, path: Path, strict: bool) -> None:
        try:
            mtime = path.stat().st_mtime
            loaded = load_flow(path)
        except FlowError as error:
            if strict:
                raise
            log.error("flows.reload_rejected file=%s problems=%d", path.name, len(error.problems))
            return
        self._mtimes[path] = mtime
        self._current[loaded.flow.id] = loaded
        self._by_version[loaded.version] = loaded

    def _refresh(self) -> None:
        for path in sorted(self.dir.glob(self._pattern)):
            try:
                changed = path.stat().st_mtime != self._mtimes.get(path)
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
        loaded = parse_flow(row.source, row.path)
        with self._lock:
            self._by_version[version] = loaded
        return loaded

    @staticmethod
    def remember(session: Session, loaded: LoadedFlow, now: datetime) -> None:
        if session.get(FlowVersion, loaded.version) is None:
            session.add(FlowVersion(version=loaded.version, flow_id=loaded.flow.id, path=Path(loaded.path).name,
                                    source=loaded.source, first_served_at=now))
            session.flush()
