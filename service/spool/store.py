"""The spool's two append-only files in SPOOL_DIR, shared safely by every web process and the clock.

    inbound.jsonl   one line per request kept: {"id", "kind", "route", "received_at", "answered", "form"}
    replay.jsonl    one line per replay outcome: {"id", "result", "at", "detail"}

A line is written with one write() under an exclusive flock and fsync'd before the webhook answers, so a
request Twilio was answered for is on disk. A line torn by a crash (no newline) is ended before the next
one is written and skipped when read. The files hold patients' numbers and words, like the database:
the directory is created 0700 and the files 0600; keep SPOOL_DIR on a persistent, encrypted volume.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

INBOUND = "inbound.jsonl"
LEDGER = "replay.jsonl"
REPLAYED, SKIPPED, FAILED = "replayed", "skipped", "failed"
MAX_FAILURES = 3  # a request failing this often, the database answering, is left for a person (`spool list`)


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str  # sms | voice
    route: str  # the path Twilio requested
    received_at: datetime
    answered: str  # what Twilio was told to say: trouble (call the clinic, 911) | stop (the opt-out) | staff
    form: dict[str, str]  # Twilio's parameters, as signed


class Spool:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def keep(self, *, kind: str, route: str, form: Mapping[str, str], answered: str, now: datetime) -> Entry:
        """Append one request; it is on disk when this returns (raises OSError when it cannot be)."""
        entry = Entry(uuid.uuid4().hex, kind, route, now, answered, dict(form))
        self._append(INBOUND, {"id": entry.id, "kind": kind, "route": route, "received_at": now.isoformat(),
                               "answered": answered, "form": entry.form})
        return entry

    def record(self, entry: Entry, result: str, now: datetime, detail: str = "") -> None:
        self._append(LEDGER, {"id": entry.id, "result": result, "at": now.isoformat(), "detail": detail})

    def entries(self) -> list[Entry]:
        found = []
        for line in self._read(INBOUND):
            try:
                found.append(Entry(line["id"], line["kind"], line["route"], datetime.fromisoformat(line["received_at"]),
                                   line["answered"], {str(k): str(v) for k, v in line["form"].items()}))
            except (KeyError, TypeError, ValueError, AttributeError):
                log.error("spool.bad_entry")  # written by another version? left in the file for a person
        return found

    def results(self) -> dict[str, list[str]]:
        """Each entry's replay outcomes so far, in order."""
        found: dict[str, list[str]] = {}
        for line in self._read(LEDGER):
            if isinstance(line.get("id"), str) and isinstance(line.get("result"), str):
                found.setdefault(line["id"], []).append(line["result"])
        return found

    def pending(self) -> list[Entry]:
        """What is still to replay, oldest first: neither replayed nor skipped, and not failed too often."""
        if not (self.directory / INBOUND).exists():  # the clock asks every few seconds: no outage, no work
            return []
        results = self.results()
        return [e for e in self.entries() if not _finished(results.get(e.id, []))]

    def stuck(self) -> list[Entry]:
        """Entries that failed MAX_FAILURES times with the database up: a bug, for a person to look at."""
        results = self.results()
        return [e for e in self.entries() if results.get(e.id, []).count(FAILED) >= MAX_FAILURES
                and not ({REPLAYED, SKIPPED} & set(results[e.id]))]

    def _append(self, name: str, record: dict[str, Any]) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / name
        line = (json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n").encode()
        created = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # one line at a time, across processes
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":  # the last writer crashed mid-line: end its line
                line = b"\n" + line
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)  # and with it the lock
        if created:  # the new file's name must survive a crash too
            directory = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def _read(self, name: str) -> list[dict[str, Any]]:
        path = self.directory / name
        try:
            with path.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)  # never half a line being written
                data = handle.read()
        except FileNotFoundError:
            return []
        lines = []
        for raw in data.split(b"\n")[:-1]:  # after the last newline: nothing, or a line still being torn
            try:
                line = json.loads(raw)
            except ValueError:
                log.warning("spool.torn_line file=%s", name)
                continue
            if isinstance(line, dict):
                lines.append(line)
        return lines


def _finished(results: list[str]) -> bool:
    return REPLAYED in results or SKIPPED in results or results.count(FAILED) >= MAX_FAILURES
