"""What one viewer sees of the community: a paper with its thread and their vote, an account page
with their upvotes, submissions and API tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

from dailypapers.community.accounts import require_active
from dailypapers.community.markdown import render_comment
from dailypapers.domain import Account, ApiToken, Comment, Paper, split_arxiv_id
from dailypapers.errors import NotFound
from dailypapers.store import Database
from dailypapers.store import comments as store_comments
from dailypapers.store import users as store_users
from dailypapers.store import votes as store_votes
from dailypapers.store.listings import get_paper
from dailypapers.store.paper_edits import list_submitted_papers, submitter_of


@dataclass(frozen=True, slots=True)
class ThreadItem:
    comment: Comment
    html: str  # the body rendered by community.markdown: safe to insert as is
    is_mine: bool


@dataclass(frozen=True, slots=True)
class PaperView:
    paper: Paper
    thread: list[ThreadItem]
    upvoted: bool
    can_edit_links: bool


@dataclass(frozen=True, slots=True)
class AccountView:
    account: Account
    upvoted: list[Paper]
    submitted: list[Paper]
    api_tokens: list[ApiToken]


def paper_view(db: Database, account: Account | None, raw_id: str) -> PaperView:
    """The paper (NotFound like catalog.paper), its live thread and the viewer's standing."""
    try:
        arxiv_id, _ = split_arxiv_id(raw_id)
    except ValueError as exc:
        raise NotFound(f"{raw_id[:80]!r} is not an arXiv identifier") from exc
    viewer_id = account.id if account is not None else None
    with db.read() as conn:
        paper = get_paper(conn, arxiv_id)
        # The shown count is the imported baseline plus this hub's live comments: when it adds
        # nothing, there is no thread to read (most papers), so skip the query.
        baseline = paper.featured.comments_baseline if paper.featured else 0
        has_thread = paper.num_comments > (baseline or 0)
        comments = store_comments.list_comments(conn, paper.arxiv_id) if has_thread else []
        upvoted = False
        can_edit = False
        if viewer_id is not None and account is not None:
            upvoted = paper.arxiv_id in store_votes.upvoted_among(conn, viewer_id, [paper.arxiv_id])
            can_edit = not account.is_suspended and (
                account.is_admin or submitter_of(conn, paper.arxiv_id) == viewer_id
            )
    thread = [
        ThreadItem(c, render_comment(c.body), viewer_id is not None and c.user_id == viewer_id)
        for c in comments
    ]
    return PaperView(paper, thread, upvoted, can_edit)


def account_view(db: Database, account: Account | None) -> AccountView:
    me = require_active(account)
    with db.read() as conn:
        return AccountView(
            account=me,
            upvoted=store_votes.list_voted_papers(conn, me.id),
            submitted=list_submitted_papers(conn, me.id),
            api_tokens=store_users.list_api_tokens(conn, me.id),
        )
