"""What the community changes on papers: featuring a submission, hiding, code and project links.

Hiding and link edits change the paper, so they take a fresh change_seq (the search index then
catches them up); featuring and votes do not touch the papers row.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, select, update

from dailypapers.domain import LinkChange, Paper
from dailypapers.store.aggregates import as_date
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.papers import next_change_seq
from dailypapers.store.schema import featured, paper_link_changes, papers, users
from dailypapers.store.upserts import insert_for

LINK_FIELDS = ("code_url", "project_url")


def featured_day_of(conn: Connection, arxiv_id: str) -> date | None:
    value = conn.execute(
        select(featured.c.featured_on).where(featured.c.arxiv_id == arxiv_id)
    ).scalar()
    return as_date(value)


def submitter_of(conn: Connection, arxiv_id: str) -> int | None:
    value = conn.execute(
        select(featured.c.submitted_by).where(featured.c.arxiv_id == arxiv_id)
    ).scalar()
    return int(value) if value is not None else None


def feature_submission(
    conn: Connection, arxiv_id: str, day: date, user_id: int, username: str | None, now: datetime
) -> bool:
    """Put a paper on `day`'s list, submitted by the user; False if it is already featured."""
    result = conn.execute(
        insert_for(conn, featured)
        .values(
            arxiv_id=arxiv_id,
            featured_on=day,
            submitted_by=user_id,
            submitter_name=username,
            upvotes_baseline=0,
            comments_baseline=0,
            source="submission",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=[featured.c.arxiv_id])
        .returning(featured.c.arxiv_id)
    )
    return result.first() is not None


def list_submitted_papers(conn: Connection, user_id: int, *, limit: int = 100) -> list[Paper]:
    rows = conn.execute(
        paper_select()
        .where(featured.c.submitted_by == user_id)
        .order_by(featured.c.featured_on.desc(), papers.c.arxiv_id.desc())
        .limit(limit)
    )
    return [paper_from_row(row) for row in rows]


def set_paper_hidden(conn: Connection, arxiv_id: str, hidden: bool) -> bool:
    """True when the flag changed."""
    result = conn.execute(
        update(papers)
        .where(papers.c.arxiv_id == arxiv_id, papers.c.hidden.is_not(hidden))
        .values(hidden=hidden, change_seq=next_change_seq(conn))
        .returning(papers.c.arxiv_id)
    )
    return result.first() is not None


def is_paper_hidden(conn: Connection, arxiv_id: str) -> bool | None:
    """None when the store lacks the paper."""
    value = conn.execute(select(papers.c.hidden).where(papers.c.arxiv_id == arxiv_id)).scalar()
    return None if value is None else bool(value)


def set_paper_links(
    conn: Connection, arxiv_id: str, links: dict[str, str | None], user_id: int, now: datetime
) -> int:
    """Set code_url / project_url, logging each change; the number of fields changed."""
    current = conn.execute(
        select(*(papers.c[name] for name in LINK_FIELDS)).where(papers.c.arxiv_id == arxiv_id)
    ).first()
    if current is None:
        return 0
    old = dict(zip(LINK_FIELDS, current, strict=True))
    changed = {name: value for name, value in links.items() if old[name] != value}
    if not changed:
        return 0
    conn.execute(
        update(papers)
        .where(papers.c.arxiv_id == arxiv_id)
        .values(**changed, change_seq=next_change_seq(conn))
    )
    conn.execute(
        insert_for(conn, paper_link_changes),
        [
            {
                "arxiv_id": arxiv_id,
                "user_id": user_id,
                "field": name,
                "old_value": old[name],
                "new_value": value,
                "created_at": now,
            }
            for name, value in changed.items()
        ],
    )
    return len(changed)


def list_link_changes(conn: Connection, arxiv_id: str, *, limit: int = 50) -> list[LinkChange]:
    rows = conn.execute(
        select(
            paper_link_changes.c.arxiv_id,
            paper_link_changes.c.field,
            paper_link_changes.c.old_value,
            paper_link_changes.c.new_value,
            users.c.username,
            paper_link_changes.c.created_at,
        )
        .select_from(
            paper_link_changes.outerjoin(users, users.c.id == paper_link_changes.c.user_id)
        )
        .where(paper_link_changes.c.arxiv_id == arxiv_id)
        .order_by(paper_link_changes.c.id.desc())
        .limit(limit)
    )
    return [LinkChange(*row) for row in rows]
