"""Encrypted columns: SQLAlchemy types that seal on the way in and open on the way out.

Being column types, they apply to every statement that touches the column, ORM or Core: the SMS hot
path's plain INSERTs and UPDATEs (runtime/conversation.py, outbox/outbound.py) seal exactly as the ORM does.
The keyring belongs to the engine (make_engine(url, keyring=...)): it is kept on the engine's dialect,
the one object a column type is handed at every bind and every result, so two apps in one process (the
tests) or a CLI command each use their own keys and nothing is global.

A sealed column cannot be compared in SQL (each value has its own random nonce): filter on other columns.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Engine, Text, TypeDecorator
from sqlalchemy.engine import Dialect

from .keys import SEALED, Keyring, open_text, seal_text

_ATTRIBUTE = "triage_keyring"


def attach(engine: Engine, keyring: Keyring | None) -> None:
    setattr(engine.dialect, _ATTRIBUTE, keyring)


def keyring_of(dialect: Dialect) -> Keyring | None:
    return getattr(dialect, _ATTRIBUTE, None)


class SealedText(TypeDecorator[str]):
    """Text, sealed under the current key (plain without one). `label`: the column, bound into each value."""

    impl = Text
    cache_ok = True

    def __init__(self, label: str):
        super().__init__()
        self.label = label

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal_text(keyring_of(dialect), self.label, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else open_text(keyring_of(dialect), self.label, value)


class SealedJSON(TypeDecorator[Any]):
    """A JSON column whose value is sealed whole; stored as a JSON string ("enc:v1:..."), so the column
    keeps its JSON type and plain (dev) rows stay plain JSON beside sealed ones."""

    impl = JSON
    cache_ok = True

    def __init__(self, label: str):
        super().__init__()
        self.label = label

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keyring = keyring_of(dialect)
        if value is None or keyring is None:
            return value
        return keyring.seal(self.label, json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and value.startswith(SEALED):
            return json.loads(open_text(keyring_of(dialect), self.label, value))
        return value
