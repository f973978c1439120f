"""Rate limits kept in the store (fixed windows shared by every worker): over the limit raises
RateLimited with a message the form shows and the seconds until the window ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dailypapers.errors import RateLimited
from dailypapers.store import Connection
from dailypapers.store.rate_counters import count_hit

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A limit of this many hits means no limit (DAILYPAPERS_RATE_LIMITS=off): nothing is counted.
UNLIMITED = 0


def window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def take(
    conn: Connection, bucket: str, *, limit: int, window: timedelta, now: datetime, what: str
) -> None:
    """Count one hit of `bucket`; raise RateLimited past `limit` hits in the window."""
    if limit == UNLIMITED:
        return
    start = window_start(now, window)
    hits = count_hit(conn, bucket, start, now)
    if hits > limit:
        retry = max(1, int((start + window - now).total_seconds()))
        minutes = (retry + 59) // 60
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        raise RateLimited(
            f"Too many {what}. Please try again in {wait}.", retry_after_seconds=retry
        )
