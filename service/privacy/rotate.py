"""Which key seals what (`flask data status`), and re-sealing everything under the current key
(`flask data rotate-key`).

Rotation, with the service running: give every process the new DATA_KEY and the old one in DATA_KEY_OLD
(they then seal with the new key and open both), run rotate-key, and once it reports nothing left under
another key, drop DATA_KEY_OLD. Plain values (written before DATA_KEY was set) are sealed the same way.

Each batch is one transaction through the runtime envelope. A row is rewritten only if its stored text is
still what was read (compare-and-set on the raw text): a webhook that saved the row meanwhile wrote it
under the current key already, and is never overwritten with older content.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import Column, Table, Text, cast, func, select, update

from ..models import Base
from ..runtime.envelope import Turn, run
from ..services import Services
from .keys import sealed_key_id
from .sealed import SealedJSON, SealedText, keyring_of

BATCH = 500
PLAIN = "plain"


def sealed_columns() -> list[tuple[Table, Column]]:
    """Every sealed column of the schema, found from the models (nothing to keep in step by hand)."""
    return [(table, column) for table in Base.metadata.sorted_tables for column in table.c
            if isinstance(column.type, SealedText | SealedJSON)]


def key_status(svc: Services) -> dict[str, Counter[str]]:
    """For each sealed column ("messages.body"), how many values each key id seals, and how many are plain."""
    found: dict[str, Counter[str]] = {}
    with svc.factory() as session:
        for table, column in sealed_columns():
            heads = session.scalars(select(func.substr(cast(column, Text), 1, 20)).where(column.is_not(None)))
            found[f"{table.name}.{column.name}"] = Counter(sealed_key_id(head) or PLAIN for head in heads)
    return found


@dataclass
class Rotation:
    resealed: Counter[str] = field(default_factory=Counter)  # per column
    changed_meanwhile: int = 0  # rows saved by someone else between the read and the write (already current)


@dataclass(frozen=True)
class _Batch:
    last: Any  # the last primary key read; None: the column is done
    resealed: int
    changed: int


def _reseal(turn: Turn[_Batch], table: Table, column: Column, current_id: str, after: Any) -> _Batch:
    [key] = table.primary_key.columns
    query = select(key, column, cast(column, Text).label("raw")).order_by(key).limit(BATCH)
    rows = turn.session.connection().execute(query if after is None else query.where(key > after)).all()
    resealed = changed = 0
    for row in rows:
        if row.raw is None or sealed_key_id(row.raw) == current_id:
            continue
        # Read opened (any key of the ring), written back through the column's type: sealed under the current key.
        result = turn.session.connection().execute(
            update(table).where(key == row[0], cast(column, Text) == row.raw).values({column.name: row[1]}))
        resealed += result.rowcount
        changed += 1 - result.rowcount
    return _Batch(rows[-1][0] if rows else None, resealed, changed)


def rotate(svc: Services) -> Rotation:
    keyring = keyring_of(svc.engine.dialect)
    if keyring is None:
        raise RuntimeError("DATA_KEY is not set: there is no key to seal under")
    done = Rotation()
    for table, column in sealed_columns():
        batch = _Batch(None, 0, 0)
        while True:
            batch = run(svc, partial(_reseal, table=table, column=column, current_id=keyring.current_id,
                                     after=batch.last))
            done.resealed[f"{table.name}.{column.name}"] += batch.resealed
            done.changed_meanwhile += batch.changed
            if batch.last is None:
                break
    return done
