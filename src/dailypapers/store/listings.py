"""Reading papers: one paper, a featured day, the neighbouring days. Returns domain values only.

The statements on the request path are built once, at import, with bound parameters: building a
Core statement and computing its cache key cost far more than SQLite takes to run these queries
(a paper by id: ~0.1 ms in SQLite, ~1 ms to build and key the statement). SQLAlchemy memoises the
cache key on a statement object, so a reused statement goes straight to its compiled form.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, select

from dailypapers.domain import Featured, Paper, Version
from dailypapers.errors import NotFound
from dailypapers.store.schema import comments, featured, paper_versions, papers, votes

_local_votes = (
    select(func.count())
    .where(votes.c.arxiv_id == papers.c.arxiv_id)
    .correlate(papers)
    .scalar_subquery()
)
_local_comments = (
    select(func.count())
    .where(comments.c.arxiv_id == papers.c.arxiv_id, comments.c.deleted_at.is_(None))
    .correlate(papers)
    .scalar_subquery()
)
_upvotes = (func.coalesce(featured.c.upvotes_baseline, 0) + _local_votes).label("upvotes")
_num_comments = (func.coalesce(featured.c.comments_baseline, 0) + _local_comments).label(
    "num_comments"
)


_PAPER_SELECT: Select[Any] = select(
    papers,
    featured.c.featured_on,
    featured.c.submitter_name,
    featured.c.upvotes_baseline,
    featured.c.comments_baseline,
    _upvotes,
    _num_comments,
).select_from(papers.outerjoin(featured, featured.c.arxiv_id == papers.c.arxiv_id))


def paper_select() -> Select[Any]:
    """Papers with their featured listing and shown counts (imported baseline plus local rows).

    One shared statement: Core statements are immutable (`.where()` and friends return copies),
    so callers can refine it freely, and building it once saves its construction per query.
    """
    return _PAPER_SELECT


def paper_from_row(row: Any, versions: Sequence[Version] = ()) -> Paper:
    mapping = row._mapping
    featured_on = mapping["featured_on"]
    return Paper(
        arxiv_id=mapping["arxiv_id"],
        title=mapping["title"],
        abstract=mapping["abstract"],
        authors=tuple(json.loads(mapping["authors"])),
        latest_version=mapping["latest_version"],
        published_at=mapping["published_at"],
        updated_at=mapping["updated_at"],
        primary_category=mapping["primary_category"],
        categories=tuple(mapping["categories"].split()),
        comment=mapping["comment"],
        journal_ref=mapping["journal_ref"],
        doi=mapping["doi"],
        license=mapping["license"],
        code_url=mapping["code_url"],
        project_url=mapping["project_url"],
        change_seq=mapping["change_seq"],
        featured=Featured(
            featured_on=featured_on,
            submitter_name=mapping["submitter_name"],
            upvotes_baseline=mapping["upvotes_baseline"],
            comments_baseline=mapping["comments_baseline"],
        )
        if featured_on is not None
        else None,
        upvotes=int(mapping["upvotes"]),
        num_comments=int(mapping["num_comments"]),
        versions=tuple(versions),
    )


# A paper and its versions in one statement: a row per known version (one row with NULL
# version columns when none is known), the paper's columns repeated on each.
_PAPER_WITH_VERSIONS = (
    _PAPER_SELECT.add_columns(
        paper_versions.c.version.label("v_version"),
        paper_versions.c.submitted_at.label("v_submitted_at"),
        paper_versions.c.withdrawn.label("v_withdrawn"),
    )
    .outerjoin(paper_versions, paper_versions.c.arxiv_id == papers.c.arxiv_id)
    .where(papers.c.arxiv_id == bindparam("arxiv_id"))
    .order_by(paper_versions.c.version)
)


def get_paper(conn: Connection, arxiv_id: str) -> Paper:
    """The paper with its versions; raises NotFound."""
    rows = conn.execute(_PAPER_WITH_VERSIONS, {"arxiv_id": arxiv_id}).all()
    if not rows:
        raise NotFound(f"paper {arxiv_id} is not in this hub")
    versions = [
        Version(
            version=row.v_version, submitted_at=row.v_submitted_at, withdrawn=bool(row.v_withdrawn)
        )
        for row in rows
        if row.v_version is not None
    ]
    return paper_from_row(rows[0], versions)


_LATEST_FEATURED_DAY = (
    select(featured.c.featured_on)
    .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
    .where(papers.c.hidden.is_(False))
    .order_by(featured.c.featured_on.desc())
    .limit(1)
)


def latest_featured_day(conn: Connection) -> date | None:
    """The newest day with a visible featured paper."""
    return conn.execute(_LATEST_FEATURED_DAY).scalar()


def list_featured_day(
    conn: Connection, day: date, *, limit: int = 100, offset: int = 0
) -> list[Paper]:
    """A day's featured papers, most upvoted first (ties: newest id first)."""
    rows = conn.execute(
        paper_select()
        .where(featured.c.featured_on == day, papers.c.hidden.is_(False))
        .order_by(_upvotes.desc(), papers.c.arxiv_id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [paper_from_row(row) for row in rows]
