"""Counts and date ranges of what the store holds, for `dailypapers stats` and the status page."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import distinct, func, select

from dailypapers.domain import StoreStats
from dailypapers.store.engine import Database
from dailypapers.store.ingest_runs import last_ingest_at
from dailypapers.store.schema import authors, featured, papers


def compute_stats(db: Database) -> StoreStats:
    with db.read() as conn:
        paper_count, first_published, last_published = conn.execute(
            select(func.count(), func.min(papers.c.published_at), func.max(papers.c.published_at))
        ).one()
        author_count = conn.execute(select(func.count()).select_from(authors)).scalar_one()
        featured_count, featured_days, first_featured, last_featured = conn.execute(
            select(
                func.count(),
                func.count(distinct(featured.c.featured_on)),
                func.min(featured.c.featured_on),
                func.max(featured.c.featured_on),
            )
        ).one()
    return StoreStats(
        papers=int(paper_count),
        authors=int(author_count),
        featured=int(featured_count),
        featured_days=int(featured_days),
        first_published=_as_date(first_published),
        last_published=_as_date(last_published),
        first_featured=_as_date(first_featured),
        last_featured=_as_date(last_featured),
        last_ingest_at=last_ingest_at(db),
        database_bytes=db.database_bytes(),
        backend=db.backend,
    )


def _as_date(value: object) -> date | None:
    """min()/max() lose the column type on SQLite and come back as text: parse it."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()
