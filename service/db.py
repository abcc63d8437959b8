"""Database engine and sessions: SQLite by default, Postgres through DATABASE_URL, one code path."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from .privacy.keys import Keyring
from .privacy.sealed import attach
from .sqlite_writer import UrgentWriterConnection, WriterLockedConnection

LOCK_TIMEOUT_MS = 5000  # Postgres: longest wait for a row lock (another webhook for the same patient)
STATEMENT_TIMEOUT_MS = 8000  # Postgres: longest any one statement may run
IDLE_PING_S = 5.0  # Postgres: a pooled connection idle this long is pinged before use (_ping_when_idle)


def make_engine(url: str, keyring: Keyring | None = None, urgent: bool = False) -> Engine:
    """hide_parameters: SQL errors (and so tracebacks in logs) never show values: numbers, texts.
    `keyring`: the data keys its sealed columns use (None: stored readable, dev). `urgent`: SQLite, the page
    lane's engine, whose writes go before routine ones (sqlite_writer.py)."""
    engine = _make_engine(url, urgent)
    attach(engine, keyring)
    return engine


def _make_engine(url: str, urgent: bool = False) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, UrgentWriterConnection if urgent else WriterLockedConnection)
    if url.startswith("postgres://"):  # what some platforms still hand out
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    # Room for every thread of a web process at once, so none waits for a connection: up to 20, for
    # WEB_THREADS request threads, OUTBOX_THREADS senders and the in-process clock (8 + 4 + 1 in the
    # benchmark). Raise it with those, and Postgres' max_connections with the number of processes.
    # All 20 kept (pool_size, no overflow), opened only as threads need them: an overflow connection
    # is closed when it is returned to a full pool, so under load connections were opened and closed
    # all the time, each a new Postgres backend that starts with cold caches and plans its statements
    # again (psycopg prepares a statement on a connection after 5 runs there). LIFO: the connections
    # used most are the warm ones.
    engine = create_engine(url, pool_size=20, max_overflow=0, pool_use_lifo=True, hide_parameters=True)
    _ping_when_idle(engine)

    @event.listens_for(engine, "connect")
    def _timeouts(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # A webhook must answer before Twilio gives up (15 s): fail fast (and answer safely) rather
        # than wait on a lock or a runaway query until then.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
            cursor.execute(f"SET statement_timeout = '{STATEMENT_TIMEOUT_MS}ms'")
        dbapi_connection.commit()

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled Postgres connection before use only when it has sat idle (pool_pre_ping pings every
    checkout: one more round trip on every webhook, about a ninth of a text's). A connection in steady use
    that the server dropped (a restart) fails its statement instead: that error invalidates the pool's
    connections (fastsql hands it to SQLAlchemy's own handling) and the envelope runs the input again."""

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool drops this connection and checks out (or opens) another
            raise DisconnectionError() from error


def _sqlite_engine(url: str, connection_class: type[WriterLockedConnection]) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    # One connection per process. SQLite has one writer at a time (every transaction takes the write
    # lock, see _begin), so a second connection only lets threads wait in SQLite's busy handler, which
    # polls with sleeps of up to 100 ms; waiting for the pooled connection wakes them the moment it is
    # returned. Same 15 s limit either way. Processes take turns at the write lock (sqlite_writer.py)
    # rather than race in the busy handler.
    pooling = {} if path in ("", ":memory:") else {"pool_size": 1, "max_overflow": 0, "pool_timeout": 15}
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15,
                                              "factory": connection_class},
                           hide_parameters=True, **pooling)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _begin below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # What a row held before an update or delete is zeroed in the file, not left in free space: an
        # erasure (privacy/record.py) or a purge leaves nothing to read in the file's bytes.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        # Take the write lock up front: two webhooks for one patient then queue instead of both
        # reading the same state and one failing (or worse, both writing) on upgrade to a writer.
        driver = connection.connection.driver_connection
        if isinstance(driver, WriterLockedConnection):
            driver.take_writer_turn()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if isinstance(driver, WriterLockedConnection):
                driver.give_back_writer_turn()
            raise

    return engine


def one_connection(engine: Engine) -> bool:
    """An engine whose pool is the process's one connection (a SQLite file, _sqlite_engine), which every
    thread of the process queues for."""
    return isinstance(engine.pool, QueuePool) and engine.pool.size() == 1


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed together or not at all."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def scratch_schema(url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in the Postgres database at `url`, dropped afterwards. Yields a URL whose
    connections use it (search_path), so migrations and tables land there and nowhere else."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
