"""Featuring harvested papers: finding unfeatured new papers and adding them to a day's list.

A paper is featured at most once: `featured.arxiv_id` is the primary key and adding never
overwrites a row, so a community pick or an earlier day keeps its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, literal, or_, select

from dailypapers.store.engine import Database
from dailypapers.store.schema import featured, papers
from dailypapers.store.upserts import insert_for

# Rows per INSERT: well under SQLite's bound-parameter limit (7 columns each).
_BATCH = 500


def list_unfeatured_new(
    db: Database,
    *,
    published_since: datetime,
    categories: Sequence[str] = (),
    among: Sequence[str] | None = None,
    limit: int = 10_000,
) -> list[str]:
    """Ids of visible papers first published at or after `published_since`, not yet featured.

    `categories` keeps papers listed (primary or cross-list) in any of them; `among` keeps only
    those ids. Oldest first, so a capped run features the backlog in announcement order.
    """
    clauses: list[ColumnElement[bool]] = [
        papers.c.published_at >= published_since,
        papers.c.hidden.is_(False),
        ~select(featured.c.arxiv_id).where(featured.c.arxiv_id == papers.c.arxiv_id).exists(),
    ]
    if categories:
        # `categories` is space-separated text: match whole names, not prefixes (cs.L vs cs.LG).
        padded = literal(" ") + papers.c.categories + literal(" ")
        clauses.append(or_(*(padded.contains(f" {name} ", autoescape=True) for name in categories)))
    if among is not None:
        if not among:
            return []
        clauses.append(papers.c.arxiv_id.in_(list(among)))
    query = (
        select(papers.c.arxiv_id)
        .where(*clauses)
        .order_by(papers.c.published_at, papers.c.arxiv_id)
        .limit(limit)
    )
    with db.read() as conn:
        return [str(arxiv_id) for arxiv_id in conn.execute(query).scalars()]


def feature_papers(
    db: Database, arxiv_ids: Sequence[str], *, featured_on: date, source: str, now: datetime
) -> int:
    """Feature these papers on `featured_on`; ones already featured are left as they are.

    Returns how many were newly featured.
    """
    added = 0
    with db.write() as conn:
        for start in range(0, len(arxiv_ids), _BATCH):
            rows = [
                {
                    "arxiv_id": arxiv_id,
                    "featured_on": featured_on,
                    "source": source,
                    "created_at": now,
                }
                for arxiv_id in arxiv_ids[start : start + _BATCH]
            ]
            stmt = (
                insert_for(conn, featured)
                .values(rows)
                .on_conflict_do_nothing(index_elements=[featured.c.arxiv_id])
                .returning(featured.c.arxiv_id)
            )
            added += len(conn.execute(stmt).all())
    return added
