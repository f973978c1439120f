"""The ledger of ingest runs: what ran, when, how much it wrote, and how it ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from dailypapers.domain import ImportCounts
from dailypapers.store.engine import Database
from dailypapers.store.schema import ingest_runs


def start_run(db: Database, source: str, *, now: datetime) -> int:
    with db.write() as conn:
        run_id = conn.execute(
            ingest_runs.insert()
            .values(source=source[:2_000], started_at=now, status="running")
            .returning(ingest_runs.c.id)
        ).scalar_one()
        return int(run_id)


def finish_run(
    db: Database,
    run_id: int,
    counts: ImportCounts,
    *,
    status: str,
    now: datetime,
    error: str | None = None,
) -> None:
    with db.write() as conn:
        conn.execute(
            ingest_runs.update()
            .where(ingest_runs.c.id == run_id)
            .values(
                finished_at=now,
                status=status,
                lines=counts.lines,
                papers_seen=counts.papers_seen,
                papers_changed=counts.papers_changed,
                featured_changed=counts.featured_changed,
                rejects=counts.rejects,
                error=error,
            )
        )


def last_ingest_at(db: Database) -> datetime | None:
    with db.read() as conn:
        return conn.execute(
            select(func.max(ingest_runs.c.finished_at)).where(ingest_runs.c.status == "ok")
        ).scalar()
