"""Upstream request budgets kept in the store, so every process shares one spacing per upstream.

Each budget is one row holding the earliest time the next request may start. Taking a turn is a
single conditional UPDATE, atomic on both backends (SQLite under its write lock, PostgreSQL under
the row lock), so two processes can never take the same turn. Waiting is the caller's business.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.engine import Database
from dailypapers.store.schema import upstream_limits


class StoreRateSlots:
    """The turns of one named budget (e.g. "arxiv"), kept in `upstream_limits`."""

    def __init__(self, db: Database, name: str) -> None:
        self._db = db
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def try_take(self, now: datetime, min_interval_seconds: float) -> float:
        """Take the turn if it is due and return 0.0; otherwise return the seconds left to wait.

        Taking the turn moves the next allowed start to `now + min_interval_seconds`.
        """
        following = now + timedelta(seconds=min_interval_seconds)
        with self._db.write() as conn:
            _ensure_row(conn, self._name, now)
            taken = conn.execute(
                update(upstream_limits)
                .where(
                    upstream_limits.c.name == self._name,
                    upstream_limits.c.next_allowed_at <= now,
                )
                .values(next_allowed_at=following)
                .returning(upstream_limits.c.name)
            ).first()
            if taken is not None:
                return 0.0
            next_allowed: datetime = conn.execute(
                select(upstream_limits.c.next_allowed_at).where(
                    upstream_limits.c.name == self._name
                )
            ).scalar_one()
        return max((next_allowed - now).total_seconds(), 0.0)

    def push_back(self, until: datetime) -> None:
        """Let no request of this budget start before `until` (never brings the time forward)."""
        with self._db.write() as conn:
            _ensure_row(conn, self._name, until)
            conn.execute(
                update(upstream_limits)
                .where(
                    upstream_limits.c.name == self._name,
                    upstream_limits.c.next_allowed_at < until,
                )
                .values(next_allowed_at=until)
            )

    def next_allowed_at(self) -> datetime | None:
        with self._db.read() as conn:
            value: datetime | None = conn.execute(
                select(upstream_limits.c.next_allowed_at).where(
                    upstream_limits.c.name == self._name
                )
            ).scalar()
            return value


def _ensure_row(conn: Connection, name: str, now: datetime) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(upstream_limits)
        .values(name=name, next_allowed_at=now)
        .on_conflict_do_nothing(index_elements=[upstream_limits.c.name])
    )
