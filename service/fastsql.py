"""A text's few statements on the DB-API cursor, compiled once per dialect and set of keys.

Every inbound text runs six Core statements (runtime/conversation.py, outbox/outbound.py). Through
SQLAlchemy's execution layer each costs about 18 us of Python against 2-3 us in sqlite3 itself, and on
SQLite they all run inside the file's one writer's turn, which bounds the throughput (bench/load.py;
py-spy put the execution layer at half of that turn's CPU). Here a statement is compiled by SQLAlchemy
once (its SQL, its parameters' order, their bind processors: sealing, SQLite's datetimes; its Python-side
column defaults; its result columns' processors) and then run straight on the session's connection's
cursor, in the same transaction. What SQLAlchemy would send is what is sent: tests/service/test_fastsql.py
compares the two. Listeners of `before_cursor_execute` (the statement counts in tests and bench) still see
each statement.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    statement: ClauseElement  # held: the cache is keyed by its id, which must not be reused
    sql: str
    positional: tuple[str, ...] | None  # the parameters' order (qmark); None: by name (psycopg)
    fixed: Mapping[str, Any]  # literal values compiled into parameters (version + 1)
    defaults: tuple[tuple[str, Callable[[], Any]], ...]  # Python-side column defaults the keys leave out
    binders: Mapping[str, Callable[[Any], Any]]
    returning: bool  # an INSERT that returns its new id (Postgres); SQLite gives cursor.lastrowid
    columns: tuple[str, ...]
    results: tuple[Processor, ...]


@dataclass
class Result:
    rows: list[tuple[Any, ...]]
    rowcount: int
    new_id: int | None

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None


# Per dialect object: a column type's bind processor is made for its engine's dialect, which holds that
# engine's keyring (privacy/sealed.py), so two apps in one process (the tests) never share one.
_cache: weakref.WeakKeyDictionary[Dialect, dict[tuple[int, tuple[str, ...]], _Compiled]] = weakref.WeakKeyDictionary()


def _default(column: Any) -> Callable[[], Any]:
    default = column.default
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument default to take a context
    return lambda: default.arg


def _compile(statement: ClauseElement, dialect: Dialect, keys: tuple[str, ...]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    sql, order = compiled.string, compiled.positiontup
    params = compiled.construct_params(dict.fromkeys(keys))
    fixed = {name: value for name, value in params.items() if name not in keys}  # literals (version + 1, LIMIT 1)
    binders = {name: processor for name, processor in compiled._bind_processors.items() if processor is not None}
    if "POSTCOMPILE" in sql:  # a constant IN list (a case's open statuses): expanded once, as SQLAlchemy does each time
        expanded = compiled._process_parameters_for_postcompile(params, _populate_self=False)
        sql, order = expanded.statement, expanded.positiontup
        fixed = {name: value for name, value in expanded.parameters.items() if name not in keys}
        binders.update(expanded.processors)
    names = tuple(order) if compiled.positional and order else None
    defaults = tuple((column.key, _default(column)) for column in (*compiled.insert_prefetch,
                                                                    *compiled.update_prefetch))
    returning = bool(getattr(compiled, "effective_returning", None))
    result_columns = compiled._result_columns
    columns = tuple(column[0] for column in result_columns)
    results = tuple(column[3]._cached_result_processor(dialect, None) for column in result_columns)
    return _Compiled(statement, sql, names, fixed, defaults, binders, returning, columns, results)


def execute(session: Session | Connection, statement: ClauseElement, params: Mapping[str, Any]) -> Result:
    """Run `statement` with `params` on the session's connection (its transaction), as SQLAlchemy would."""
    connection = session.connection() if isinstance(session, Session) else session
    dialect = connection.dialect
    keys = tuple(params)
    by_statement = _cache.get(dialect)
    if by_statement is None:
        by_statement = _cache.setdefault(dialect, {})
    found = by_statement.get((id(statement), keys))
    if found is None or found.statement is not statement:
        found = by_statement[(id(statement), keys)] = _compile(statement, dialect, keys)
    values = {**found.fixed, **params}
    for key, default in found.defaults:
        values[key] = default()
    for name, bind in found.binders.items():
        if name in values:
            values[name] = bind(values[name])
    bound: Sequence[Any] | Mapping[str, Any] = (tuple(values[name] for name in found.positional)
                                                if found.positional is not None else values)
    fairy = connection.connection
    cursor = fairy.cursor()
    try:
        if connection.dispatch.before_cursor_execute:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, found.sql, bound, None, False)
        try:
            cursor.execute(found.sql, bound)
        except dialect.loaded_dbapi.Error as error:
            # SQLAlchemy's own handling: wrapped as it would raise it (IntegrityError is a lost race), and a
            # lost connection (a Postgres restart) invalidated with the pool's others, so a retry gets a new one
            connection._handle_dbapi_exception(error, found.sql, bound, cursor, None)
        if found.returning:  # an INSERT's new id, returned (Postgres)
            return Result([], cursor.rowcount, cursor.fetchone()[0])
        if not found.columns:  # an INSERT (SQLite's new id) or an UPDATE (its rowcount)
            return Result([], cursor.rowcount, getattr(cursor, "lastrowid", None))
        rows = [tuple(value if processor is None else processor(value)
                      for processor, value in zip(found.results, row, strict=True)) for row in cursor.fetchall()]
        return Result(rows, cursor.rowcount, None)
    finally:
        cursor.close()
