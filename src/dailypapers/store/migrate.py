"""Schema migrations through Alembic: upgrade, and ask whether any are pending."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dailypapers.store.engine import Database

_SCRIPTS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def pending_migrations(db: Database) -> list[str]:
    """Revision ids not yet applied, oldest first."""
    script = ScriptDirectory.from_config(_config())
    current = current_revision(db)
    pending = [rev.revision for rev in script.iterate_revisions("head", current)]
    return list(reversed(pending))


def upgrade(db: Database, revision: str = "head") -> list[str]:
    """Apply pending migrations up to `revision`; return the ids applied."""
    before = pending_migrations(db)
    config = _config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    after = set(pending_migrations(db))
    return [rev for rev in before if rev not in after]


def downgrade(db: Database, revision: str) -> None:
    config = _config()
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()
