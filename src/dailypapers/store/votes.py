"""Upvotes: one row per (user, paper). Adding is insert-or-nothing, removing is a delete, so a
double vote counts once and concurrent votes never lose a count. Votes never bump change_seq.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from dailypapers.domain import Paper, VoteState
from dailypapers.store.aggregates import as_utc
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.schema import featured, papers, votes
from dailypapers.store.upserts import insert_for


def add_vote(conn: Connection, user_id: int, arxiv_id: str, now: datetime) -> bool:
    """True when this call added the vote, False when it was already there."""
    result = conn.execute(
        insert_for(conn, votes)
        .values(user_id=user_id, arxiv_id=arxiv_id, created_at=now)
        .on_conflict_do_nothing(index_elements=[votes.c.user_id, votes.c.arxiv_id])
        .returning(votes.c.arxiv_id)
    )
    return result.first() is not None


def remove_vote(conn: Connection, user_id: int, arxiv_id: str) -> bool:
    result = conn.execute(
        delete(votes)
        .where(votes.c.user_id == user_id, votes.c.arxiv_id == arxiv_id)
        .returning(votes.c.arxiv_id)
    )
    return result.first() is not None


def count_local_votes(conn: Connection, arxiv_id: str) -> int:
    return int(conn.execute(select(func.count()).where(votes.c.arxiv_id == arxiv_id)).scalar_one())


def list_vote_times(conn: Connection, arxiv_id: str) -> list[datetime]:
    """When each of this hub's votes on the paper was cast, oldest first (UTC)."""
    rows = conn.execute(
        select(votes.c.created_at)
        .where(votes.c.arxiv_id == arxiv_id)
        .order_by(votes.c.created_at, votes.c.user_id)
    )
    return [as_utc(created_at) for created_at in rows.scalars()]


def vote_state(conn: Connection, user_id: int | None, arxiv_id: str) -> VoteState:
    """The shown count (baseline plus count(*)) and whether `user_id` has voted."""
    baseline = conn.execute(
        select(featured.c.upvotes_baseline).where(featured.c.arxiv_id == arxiv_id)
    ).scalar()
    upvoted = False
    if user_id is not None:
        upvoted = (
            conn.execute(
                select(votes.c.user_id).where(
                    votes.c.user_id == user_id, votes.c.arxiv_id == arxiv_id
                )
            ).first()
            is not None
        )
    return VoteState(arxiv_id, upvoted, int(baseline or 0) + count_local_votes(conn, arxiv_id))


def upvoted_among(conn: Connection, user_id: int, arxiv_ids: Sequence[str]) -> set[str]:
    """Which of these papers the user has upvoted (chunked for SQLite's parameter limit)."""
    found: set[str] = set()
    for start in range(0, len(arxiv_ids), 500):
        chunk = list(arxiv_ids[start : start + 500])
        found.update(
            conn.execute(
                select(votes.c.arxiv_id).where(
                    votes.c.user_id == user_id, votes.c.arxiv_id.in_(chunk)
                )
            ).scalars()
        )
    return found


def list_voted_papers(conn: Connection, user_id: int, *, limit: int = 100) -> list[Paper]:
    """The papers a user upvoted, most recent vote first."""
    rows = conn.execute(
        paper_select()
        .join(votes, votes.c.arxiv_id == papers.c.arxiv_id)
        .where(votes.c.user_id == user_id)
        .order_by(votes.c.created_at.desc())
        .limit(limit)
    )
    return [paper_from_row(row) for row in rows]
