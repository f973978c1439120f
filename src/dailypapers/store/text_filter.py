"""A plain title/abstract filter: every term must appear; title hits rank first.

A stand-in for the search index (its own issue): a scan, fine for a sample, slow at scale.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, Integer, and_, cast, func, literal, select

from dailypapers.domain import Paper
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.schema import papers


def _matches(terms: Sequence[str]) -> ColumnElement[bool]:
    return and_(
        *(
            papers.c.title.icontains(term, autoescape=True)
            | papers.c.abstract.icontains(term, autoescape=True)
            for term in terms
        ),
        papers.c.hidden.is_(False),
    )


def filter_papers(
    conn: Connection, terms: Sequence[str], *, limit: int, offset: int = 0
) -> list[Paper]:
    """Papers containing every term (case-insensitive): most title hits, then most upvoted."""
    if not terms:
        return []
    title_hits: ColumnElement[int] = literal(0, Integer)
    for term in terms:
        title_hits = title_hits + cast(papers.c.title.icontains(term, autoescape=True), Integer)
    query = paper_select().where(_matches(terms))
    upvotes = query.selected_columns.upvotes
    query = query.order_by(
        title_hits.desc(), upvotes.desc(), papers.c.published_at.desc(), papers.c.arxiv_id.desc()
    )
    return [paper_from_row(row) for row in conn.execute(query.limit(limit).offset(offset))]


def count_filtered(conn: Connection, terms: Sequence[str]) -> int:
    if not terms:
        return 0
    return int(
        conn.execute(select(func.count()).select_from(papers).where(_matches(terms))).scalar_one()
    )
