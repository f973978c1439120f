"""The composition root: build(settings) wires the store and services; entry points call it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from dailypapers.config import Settings
from dailypapers.errors import ConfigurationError
from dailypapers.secret_key import resolve_secret_key
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import pending_migrations


@dataclass(frozen=True)
class Services:
    """What the entry points use. Plain values only below this point: no Settings object."""

    db: Database
    data_dir: Path
    site_name: str
    base_url: str
    trending_half_life_hours: float
    trending_window_days: int
    import_batch_size: int
    import_max_field_chars: int

    def close(self) -> None:
        self.db.dispose()


def build(settings: Settings) -> Services:
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    # Alembic narrates every connection at INFO; its news is in what `migrate` prints.
    logging.getLogger("alembic").setLevel(
        max(logging.WARNING, logging.getLevelName(settings.log_level))
    )
    return Services(
        db=open_database(settings.effective_database_url),
        data_dir=settings.data_dir,
        site_name=settings.site_name,
        base_url=settings.base_url.rstrip("/"),
        trending_half_life_hours=settings.trending_half_life_hours,
        trending_window_days=settings.trending_window_days,
        import_batch_size=settings.import_batch_size,
        import_max_field_chars=settings.import_max_field_chars,
    )


def secret_key(settings: Settings) -> str:
    """The checked secret key: refuses a missing, short or placeholder key outside development."""
    explicit = settings.secret_key.get_secret_value() if settings.secret_key else None
    return resolve_secret_key(
        explicit,
        settings.secret_key_file,
        settings.secret_key_path,
        allow_weak=settings.environment == "development",
    )


def require_current_schema(db: Database) -> None:
    pending = pending_migrations(db)
    if pending:
        raise ConfigurationError(
            f"{len(pending)} migration(s) pending ({', '.join(pending)}): run `dailypapers migrate`"
        )
