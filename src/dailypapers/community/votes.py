"""Upvotes: set or clear one user's vote on a paper and return the fresh shown count.

The form says which state it wants (up or not), so a double submit counts once. Votes never
touch papers.change_seq; the shown count is always baseline + count(*), read after the write.
"""

from __future__ import annotations

from datetime import datetime

from dailypapers.community.accounts import require_active
from dailypapers.domain import Account, VoteState
from dailypapers.errors import NotFound
from dailypapers.store import Database
from dailypapers.store import votes as store_votes
from dailypapers.store.paper_edits import is_paper_hidden


def set_vote(
    db: Database, account: Account | None, arxiv_id: str, *, upvote: bool, now: datetime
) -> VoteState:
    voter = require_active(account)
    with db.write() as conn:
        hidden = is_paper_hidden(conn, arxiv_id)
        if hidden is None or hidden:
            raise NotFound(f"paper {arxiv_id} is not in this hub")
        if upvote:
            store_votes.add_vote(conn, voter.id, arxiv_id, now)
        else:
            store_votes.remove_vote(conn, voter.id, arxiv_id)
    with db.read() as conn:
        return store_votes.vote_state(conn, voter.id, arxiv_id)


def upvoted_among(db: Database, account: Account | None, arxiv_ids: list[str]) -> set[str]:
    """Which of these papers the viewer upvoted (empty for a signed-out viewer)."""
    if account is None or not arxiv_ids:
        return set()
    with db.read() as conn:
        return store_votes.upvoted_among(conn, account.id, arxiv_ids)
