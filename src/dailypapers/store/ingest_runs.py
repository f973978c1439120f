"""The ledger of ingest runs: what ran, when, how much it wrote, and how it ended."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

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


@dataclass(frozen=True, slots=True)
class IngestRun:
    id: int
    source: str  # "oai-pmh arXiv set=cs ...", "rss cs.LG", "job index", a dump's path
    started_at: datetime
    finished_at: datetime | None
    status: str  # running | ok | failed
    papers_seen: int
    papers_changed: int
    rejects: int
    error: str | None


def find_last_run(
    db: Database, source_prefixes: Sequence[str], *, status: str | None = "ok"
) -> IngestRun | None:
    """The newest run whose source starts with one of the prefixes (and has `status`)."""
    clauses = [or_(*(ingest_runs.c.source.startswith(p, autoescape=True) for p in source_prefixes))]
    if status is not None:
        clauses.append(ingest_runs.c.status == status)
    with db.read() as conn:
        row = conn.execute(
            select(*_RUN_COLUMNS).where(*clauses).order_by(ingest_runs.c.id.desc()).limit(1)
        ).first()
    return IngestRun(*row) if row else None


def list_failed_runs(db: Database, *, limit: int = 10) -> list[IngestRun]:
    """The newest failed runs, newest first, with their errors."""
    with db.read() as conn:
        rows = conn.execute(
            select(*_RUN_COLUMNS)
            .where(ingest_runs.c.status == "failed")
            .order_by(ingest_runs.c.id.desc())
            .limit(limit)
        ).all()
    return [IngestRun(*row) for row in rows]


_RUN_COLUMNS = (
    ingest_runs.c.id,
    ingest_runs.c.source,
    ingest_runs.c.started_at,
    ingest_runs.c.finished_at,
    ingest_runs.c.status,
    ingest_runs.c.papers_seen,
    ingest_runs.c.papers_changed,
    ingest_runs.c.rejects,
    ingest_runs.c.error,
)
