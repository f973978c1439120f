"""Named leases kept in the store: at most one holder at a time, across processes and machines.

A lease is a row of `upstream_limits` named "lease:NAME" whose time is the lease's expiry (the
same shape as a request budget: a name and a time, taken by one conditional UPDATE). Taking it
succeeds only when it has expired; renewing and releasing succeed only while the row still holds
the expiry this holder wrote, which no other holder can have written: a compare-and-swap that
needs no holder column. Clocks of machines sharing PostgreSQL must agree within the lease time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from dailypapers.store.engine import Database
from dailypapers.store.schema import upstream_limits
from dailypapers.store.upserts import insert_for

_PREFIX = "lease:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    expires_at: datetime


def try_acquire(db: Database, name: str, *, now: datetime, ttl_seconds: float) -> Lease | None:
    """Take the lease if nobody holds it (or the holder let it expire); None when held."""
    key = _PREFIX + name
    expires = now + timedelta(seconds=ttl_seconds)
    with db.write() as conn:
        conn.execute(
            insert_for(conn, upstream_limits)
            .values(name=key, next_allowed_at=_EPOCH)
            .on_conflict_do_nothing(index_elements=[upstream_limits.c.name])
        )
        taken = conn.execute(
            update(upstream_limits)
            .where(upstream_limits.c.name == key, upstream_limits.c.next_allowed_at <= now)
            .values(next_allowed_at=expires)
            .returning(upstream_limits.c.name)
        ).first()
    return Lease(name, expires) if taken is not None else None


def renew(db: Database, lease: Lease, *, now: datetime, ttl_seconds: float) -> Lease | None:
    """Extend a held lease; None when it was lost (expired and taken by another holder)."""
    expires = now + timedelta(seconds=ttl_seconds)
    return Lease(lease.name, expires) if _swap(db, lease, expires) else None


def release(db: Database, lease: Lease) -> bool:
    """Give the lease up at once, so a standby takes over without waiting for the expiry."""
    return _swap(db, lease, _EPOCH)


def _swap(db: Database, lease: Lease, expires: datetime) -> bool:
    with db.write() as conn:
        swapped = conn.execute(
            update(upstream_limits)
            .where(
                upstream_limits.c.name == _PREFIX + lease.name,
                upstream_limits.c.next_allowed_at == lease.expires_at,
            )
            .values(next_allowed_at=expires)
            .returning(upstream_limits.c.name)
        ).first()
    return swapped is not None
