"""Discussion threads: post, edit and delete your own comments, report anyone's. Rate-limited."""

from __future__ import annotations

from datetime import datetime

from dailypapers.community import rate_limits
from dailypapers.community.accounts import require_active
from dailypapers.community.policy import CommunityPolicy
from dailypapers.community.validation import check_comment, check_reason
from dailypapers.domain import Account, Comment
from dailypapers.errors import Conflict, NotFound, PermissionDenied
from dailypapers.store import Database
from dailypapers.store import comments as store_comments
from dailypapers.store.paper_edits import is_paper_hidden


def post_comment(
    db: Database,
    policy: CommunityPolicy,
    account: Account | None,
    arxiv_id: str,
    body: str,
    *,
    now: datetime,
) -> int:
    """The new comment's id."""
    author = require_active(account)
    text = check_comment(body)
    with db.write() as conn:
        hidden = is_paper_hidden(conn, arxiv_id)
        if hidden is None or hidden:
            raise NotFound(f"paper {arxiv_id} is not in this hub")
        rate_limits.take(
            conn,
            f"comment:{author.id}",
            limit=policy.comments_per_hour,
            window=rate_limits.HOUR,
            now=now,
            what="comments in the last hour",
        )
        return store_comments.insert_comment(conn, arxiv_id, author.id, text, now)


def own_comment(db: Database, account: Account | None, comment_id: int) -> Comment:
    """A comment the viewer wrote (for its edit form); PermissionDenied for anyone else's."""
    author = require_active(account)
    with db.read() as conn:
        comment = store_comments.get_comment(conn, comment_id)
    if comment.user_id != author.id:
        raise PermissionDenied("you can only change your own comments")
    return comment


def edit_comment(
    db: Database, account: Account | None, comment_id: int, body: str, *, now: datetime
) -> Comment:
    comment = own_comment(db, account, comment_id)
    text = check_comment(body)
    with db.write() as conn:
        store_comments.update_comment(conn, comment_id, text, now)
    return comment


def delete_own_comment(
    db: Database, account: Account | None, comment_id: int, *, now: datetime
) -> Comment:
    comment = own_comment(db, account, comment_id)
    with db.write() as conn:
        store_comments.delete_comment(conn, comment_id, now)
    return comment


def report_comment(
    db: Database, account: Account | None, comment_id: int, reason: str, *, now: datetime
) -> Comment:
    reporter = require_active(account)
    why = check_reason(reason)
    with db.write() as conn:
        comment = store_comments.get_comment(conn, comment_id)
        if comment.user_id == reporter.id:
            raise Conflict("you cannot report your own comment; edit or delete it instead")
        store_comments.insert_report(conn, comment_id, reporter.id, why, now)
    return comment


def list_thread(db: Database, arxiv_id: str) -> list[Comment]:
    with db.read() as conn:
        return store_comments.list_comments(conn, arxiv_id)
