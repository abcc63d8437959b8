"""The schema: Alembic's migrations, run from empty, give exactly the tables models.py describes, on
SQLite and on Postgres (CI runs the suite on both); each test works in a database of its own."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from service.db import make_engine
from service.migrate import alembic_config, upgrade
from service.models import Base


def test_migrations_from_empty_match_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []  # a fresh, empty database
        upgrade(engine)
        upgrade(engine)  # a second run (another web process starting) changes nothing
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
            assert head == "0009"  # the newest migration: append-only, so a new one moves this on
            assert connection.scalar(text("SELECT version_num FROM alembic_version")) == head
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_a_tests_database_is_the_migrated_schema(database_url: str) -> None:
    """tests/databases.py copies one migrated database into each test's: the copy must be that schema, exactly."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
            assert context.get_current_revision() == head
        assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
        upgrade(engine)  # the app's start on it: nothing to do
    finally:
        engine.dispose()


def test_each_postgres_test_has_a_schema_of_its_own(database_url: str) -> None:
    if not database_url.startswith("postgres"):
        pytest.skip("Postgres only (CI's second run sets DATABASE_URL)")
    schema = database_url.rsplit("search_path%3D", 1)[1]
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT current_schema()")) == schema
            tables = set(connection.scalars(text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = :s"), {"s": schema}))
            assert "messages" in tables
            assert connection.scalar(text("SHOW lock_timeout")) == "5s"
    finally:
        engine.dispose()
