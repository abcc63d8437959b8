"""ROSTER_FILE as served: read at start (a bad file stops the start), then read again when the file changes,
as the flows are, so a shift swap or a new nurse needs no restart. Every process (each web worker, the
clock) notices the edit at its next use of the roster. An edit that fails its checks is not used: the last
good roster stays and the problem is logged, so a typo cannot leave a page with nobody to go to."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..engine.yamlfile import FileProblems
from .roster import Roster, load_roster

log = logging.getLogger(__name__)


class RosterStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._roster = load_roster(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def current(self) -> Roster:
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:  # unchanged, or gone for a moment (an editor's save)
            return self._roster
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp  # a rejected edit is not read again until the file changes again
                try:
                    self._roster = load_roster(self.path)
                except (FileProblems, OSError) as error:
                    problems = len(error.problems) if isinstance(error, FileProblems) else 1
                    log.error("roster.reload_rejected file=%s problems=%d", self.path.name, problems)
                else:
                    log.info("roster.reloaded file=%s", self.path.name)
            return self._roster
