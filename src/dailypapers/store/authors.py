"""Reading an author's papers by folded name (author_key): case and accents do not matter."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, Select, func, select

from dailypapers.domain import Paper
from dailypapers.store.aggregates import as_utc
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.schema import authors, paper_authors, papers


def _author_paper_ids(name_key: str) -> Select[Any]:
    return (
        select(paper_authors.c.arxiv_id)
        .join(authors, authors.c.id == paper_authors.c.author_id)
        .where(authors.c.name_key == name_key)
    )


def find_author_names(conn: Connection, name_key: str) -> list[str]:
    """The spellings stored for one folded name, the most used first."""
    rows = conn.execute(
        select(authors.c.name, func.count(paper_authors.c.arxiv_id).label("n"))
        .join(paper_authors, paper_authors.c.author_id == authors.c.id)
        .where(authors.c.name_key == name_key)
        .group_by(authors.c.name)
        .order_by(func.count(paper_authors.c.arxiv_id).desc(), authors.c.name)
    )
    return [name for name, _ in rows]


def list_author_papers(
    conn: Connection, name_key: str, *, limit: int = 50, offset: int = 0
) -> list[Paper]:
    """Visible papers by the author, newest published first (unknown dates last)."""
    query = (
        paper_select()
        .where(papers.c.arxiv_id.in_(_author_paper_ids(name_key)), papers.c.hidden.is_(False))
        .order_by(
            papers.c.published_at.is_(None),
            papers.c.published_at.desc(),
            papers.c.arxiv_id.desc(),
        )
        .limit(limit)
        .offset(offset)
    )
    return [paper_from_row(row) for row in conn.execute(query)]


def count_author_papers(conn: Connection, name_key: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(papers)
            .where(papers.c.arxiv_id.in_(_author_paper_ids(name_key)), papers.c.hidden.is_(False))
        ).scalar_one()
    )


def count_author_papers_per_month(conn: Connection, name_key: str) -> list[tuple[str, int]]:
    """("YYYY-MM", visible papers published that month) for the author, oldest first.

    Papers without a publication date are left out. Months are counted here rather than in SQL
    because SQLite and PostgreSQL name the month of a timestamp differently.
    """
    dates = conn.execute(
        select(papers.c.published_at).where(
            papers.c.arxiv_id.in_(_author_paper_ids(name_key)),
            papers.c.hidden.is_(False),
            papers.c.published_at.is_not(None),
        )
    ).scalars()
    months = Counter(f"{at.year:04d}-{at.month:02d}" for at in map(as_utc, dates))
    return sorted(months.items())
