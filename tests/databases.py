"""Each test's own database: empty (the migrations' own tests), or already at the newest migration.

Running Alembic in every test's setup cost 0.1-0.2 s a test, most of the suite's setup, on each database. A test that
only needs the current schema gets a copy instead, made from one database migrated by Alembic once per test process:
on SQLite a copy of that file (the backup API, so the write-ahead log comes with it), on Postgres the statements that
migration ran, captured as it ran and replayed into the test's own schema. The app still runs `upgrade` at start, and
finds the schema current. tests/service/test_database.py checks that the copy is the migrated schema on both.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from service.db import make_engine, scratch_schema
from service.migrate import upgrade

# What a replayed migration runs: statements that change the schema or its rows. Reads (Alembic's reflection,
# the version check) and session settings (the engine's own SET on connect) change nothing to copy.
_CHANGES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "COMMENT")
_READS = ("SELECT", "SHOW", "SET", "WITH")

_lock = threading.Lock()
_sqlite_template: Path | None = None
_postgres_script: list[tuple[str, Any]] | None = None


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    return url if url.startswith("postgres") else None


@contextmanager
def fresh_database(directory: Path, *, migrated: bool = False) -> Iterator[str]:
    """A database of the test's own: a SQLite file in `directory`, or a Postgres schema (search_path), dropped
    after. Empty, or with `migrated` at the newest migration."""
    pg = postgres_url()
    if pg is None:
        path = directory / "triage.sqlite3"
        if migrated:
            _copy_sqlite(_migrated_sqlite(), path)
        yield f"sqlite:///{path}"
        return
    with scratch_schema(pg, "t") as url:
        if migrated:
            _replay(url, _migrated_postgres(pg))
        yield url


def _migrated_sqlite() -> Path:
    global _sqlite_template
    with _lock:
        if _sqlite_template is None:
            folder = Path(tempfile.mkdtemp(prefix="triage-template-"))
            path = folder / "template.sqlite3"
            engine = make_engine(f"sqlite:///{path}")
            try:
                upgrade(engine)
            finally:
                engine.dispose()
            _sqlite_template = path
        return _sqlite_template


def _copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _migrated_postgres(pg: str) -> list[tuple[str, Any]]:
    global _postgres_script
    with _lock:
        if _postgres_script is None:
            _postgres_script = _capture_migration(pg)
        return _postgres_script


def _capture_migration(pg: str) -> list[tuple[str, Any]]:
    """Migrate a scratch schema with Alembic, keeping every statement that changed something, in order."""
    ran: list[tuple[str, Any]] = []
    with scratch_schema(pg, "template") as url:
        engine = make_engine(url)

        @event.listens_for(engine, "before_cursor_execute")
        def _keep(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
            verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if verb in _CHANGES:
                ran.append((statement, parameters))
            elif verb not in _READS:
                raise AssertionError(f"a migration statement neither reads nor changes: {statement[:80]!r}")

        try:
            upgrade(engine)
        finally:
            engine.dispose()
    if not ran:
        raise AssertionError("the migration ran no statement to replay")
    return ran


def _replay(url: str, script: list[tuple[str, Any]]) -> None:
    engine = make_engine(url)
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            for statement, parameters in script:
                cursor.execute(statement, parameters or None)
            connection.commit()
        finally:
            connection.close()
    finally:
        engine.dispose()


def remove_templates() -> None:
    if _sqlite_template is not None:
        shutil.rmtree(_sqlite_template.parent, ignore_errors=True)
