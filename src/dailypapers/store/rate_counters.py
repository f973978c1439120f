"""Rate-limit counters in the store: fixed windows, one atomic upsert per hit, every worker.

A hit is `INSERT .. ON CONFLICT DO UPDATE SET hits = hits + 1 RETURNING hits`, atomic on both
backends (SQLite's write lock, PostgreSQL's row lock), so concurrent workers never lose a count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete

from dailypapers.store.schema import rate_counters
from dailypapers.store.upserts import insert_for

# Windows older than this are dead weight: the longest window in use is a day.
KEEP_WINDOWS_FOR = timedelta(days=2)


def count_hit(conn: Connection, bucket: str, window_start: datetime, now: datetime) -> int:
    """Add one hit to `bucket` in the window starting at `window_start`; the hits so far."""
    conn.execute(delete(rate_counters).where(rate_counters.c.window_start < now - KEEP_WINDOWS_FOR))
    stmt = insert_for(conn, rate_counters).values(bucket=bucket, window_start=window_start, hits=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[rate_counters.c.bucket, rate_counters.c.window_start],
        set_={"hits": rate_counters.c.hits + 1},
    ).returning(rate_counters.c.hits)
    return int(conn.execute(stmt).scalar_one())
