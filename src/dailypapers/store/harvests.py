"""OAI-PMH harvest cursors: where each (set, metadata prefix) harvest stands, kept in the store.

A page's records and the resumption token that follows them are written in one transaction
(`save_page` takes the caller's connection), so a killed harvest neither loses nor repeats a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from dailypapers.store.engine import Database
from dailypapers.store.schema import harvest_state

# Upstream error text kept with a failed cursor: enough to diagnose, never a whole document.
_ERROR_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class HarvestCursor:
    set_spec: str  # "" harvests the whole repository
    metadata_prefix: str
    from_date: date | None
    until_date: date | None
    resumption_token: str | None
    last_datestamp: date | None
    status: str  # running | ok | failed
    pages: int
    records: int
    started_at: datetime
    updated_at: datetime
    error: str | None


def find_cursor(db: Database, set_spec: str, metadata_prefix: str) -> HarvestCursor | None:
    with db.read() as conn:
        row = (
            conn.execute(select(harvest_state).where(*_key(set_spec, metadata_prefix)))
            .mappings()
            .first()
        )
    return HarvestCursor(**dict(row)) if row else None


def list_cursors(db: Database) -> list[HarvestCursor]:
    with db.read() as conn:
        rows = conn.execute(
            select(harvest_state).order_by(
                harvest_state.c.set_spec, harvest_state.c.metadata_prefix
            )
        ).mappings()
        return [HarvestCursor(**dict(row)) for row in rows]


def start_cursor(
    db: Database,
    set_spec: str,
    metadata_prefix: str,
    *,
    from_date: date | None,
    until_date: date | None,
    now: datetime,
) -> None:
    """Begin a fresh list request: no token, no pages; the last successful datestamp is kept."""
    values: dict[str, Any] = {
        "from_date": from_date,
        "until_date": until_date,
        "resumption_token": None,
        "status": "running",
        "pages": 0,
        "records": 0,
        "started_at": now,
        "updated_at": now,
        "error": None,
    }
    with db.write() as conn:
        updated = conn.execute(
            harvest_state.update().where(*_key(set_spec, metadata_prefix)).values(**values)
        ).rowcount
        if not updated:
            conn.execute(
                harvest_state.insert().values(
                    set_spec=set_spec, metadata_prefix=metadata_prefix, **values
                )
            )


def resume_cursor(db: Database, set_spec: str, metadata_prefix: str, *, now: datetime) -> None:
    _update(db, set_spec, metadata_prefix, status="running", error=None, updated_at=now)


def save_page(
    conn: Connection,
    set_spec: str,
    metadata_prefix: str,
    *,
    resumption_token: str | None,
    records: int,
    now: datetime,
) -> None:
    """Record one stored page and the token of the next, inside the page's own transaction."""
    conn.execute(
        harvest_state.update()
        .where(*_key(set_spec, metadata_prefix))
        .values(
            resumption_token=resumption_token,
            pages=harvest_state.c.pages + 1,
            records=harvest_state.c.records + records,
            updated_at=now,
        )
    )


def finish_cursor(
    db: Database, set_spec: str, metadata_prefix: str, *, last_datestamp: date, now: datetime
) -> None:
    _update(
        db,
        set_spec,
        metadata_prefix,
        status="ok",
        resumption_token=None,
        last_datestamp=last_datestamp,
        error=None,
        updated_at=now,
    )


def fail_cursor(
    db: Database,
    set_spec: str,
    metadata_prefix: str,
    *,
    error: str,
    now: datetime,
    drop_token: bool = False,
) -> None:
    """Mark the harvest failed; keep the token (resume later) unless the upstream refused it."""
    values: dict[str, Any] = {"status": "failed", "error": error[:_ERROR_CHARS], "updated_at": now}
    if drop_token:
        values["resumption_token"] = None
    _update(db, set_spec, metadata_prefix, **values)


def _update(db: Database, set_spec: str, metadata_prefix: str, **values: Any) -> None:
    with db.write() as conn:
        conn.execute(
            harvest_state.update().where(*_key(set_spec, metadata_prefix)).values(**values)
        )


def _key(set_spec: str, metadata_prefix: str) -> tuple[Any, Any]:
    return (
        harvest_state.c.set_spec == set_spec,
        harvest_state.c.metadata_prefix == metadata_prefix,
    )
