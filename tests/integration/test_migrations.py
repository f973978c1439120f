"""The migration history runs on both backends and produces exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from dailypapers.store import Database
from dailypapers.store.migrate import downgrade, head_revision, pending_migrations, upgrade
from dailypapers.store.schema import metadata


def test_a_new_store_has_every_migration_pending(empty_db: Database) -> None:
    assert pending_migrations(empty_db)[-1] == head_revision()


def test_upgrade_creates_the_declared_schema_exactly(empty_db: Database) -> None:
    applied = upgrade(empty_db)
    assert applied[-1] == head_revision()
    assert pending_migrations(empty_db) == []
    with empty_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrade_twice_applies_nothing_the_second_time(empty_db: Database) -> None:
    upgrade(empty_db)
    assert upgrade(empty_db) == []


def test_downgrade_to_base_and_back_up_round_trips(empty_db: Database) -> None:
    upgrade(empty_db)
    downgrade(empty_db, "base")
    tables = set(inspect(empty_db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(empty_db)
    assert set(inspect(empty_db.engine).get_table_names()) >= {"papers", "featured", "votes"}
