"""Values read back from SQL aggregates: SQLite's min()/max() lose the column type and return text
where PostgreSQL returns a date or a timestamp. Every store module reads them through here."""

from __future__ import annotations

from datetime import UTC, date, datetime


def as_date(value: object) -> date | None:
    """A date column's aggregate as a date ("2026-11-28", "2026-11-28 00:00:00" or a value)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_utc(value: object) -> datetime:
    """A timestamp column's value as an aware UTC datetime (SQLite stores naive UTC text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
