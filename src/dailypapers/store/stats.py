"""Counts and date ranges of what the store holds, for `dailypapers stats` and the status page."""

from __future__ import annotations

from sqlalchemy import distinct, func, select

from dailypapers.domain import StoreStats
from dailypapers.store.aggregates import as_date
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
        first_published=as_date(first_published),
        last_published=as_date(last_published),
        first_featured=as_date(first_featured),
        last_featured=as_date(last_featured),
        last_ingest_at=last_ingest_at(db),
        database_bytes=db.database_bytes(),
        backend=db.backend,
    )
