"""Moderation by admins: hide a paper, delete a comment, suspend a user, dismiss reports.
Every action is logged with its actor, target and time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dailypapers.community.accounts import require_active
from dailypapers.domain import Account, ModerationEntry, ReportedComment
from dailypapers.errors import Conflict, NotFound, PermissionDenied
from dailypapers.store import Database
from dailypapers.store import comments as store_comments
from dailypapers.store import users as store_users
from dailypapers.store.moderation import list_log, log_action
from dailypapers.store.paper_edits import is_paper_hidden, set_paper_hidden


@dataclass(frozen=True, slots=True)
class ModerationOverview:
    reported: list[ReportedComment]
    log: list[ModerationEntry]


def require_admin(account: Account | None) -> Account:
    admin = require_active(account)
    if not admin.is_admin:
        raise PermissionDenied("this page is for moderators")
    return admin


def overview(db: Database, account: Account | None) -> ModerationOverview:
    require_admin(account)
    with db.read() as conn:
        return ModerationOverview(store_comments.list_reported_comments(conn), list_log(conn))


def hide_paper(
    db: Database, account: Account | None, arxiv_id: str, *, hidden: bool, now: datetime
) -> None:
    admin = require_admin(account)
    with db.write() as conn:
        if is_paper_hidden(conn, arxiv_id) is None:
            raise NotFound(f"paper {arxiv_id} is not in this hub")
        if set_paper_hidden(conn, arxiv_id, hidden):
            action = "hide-paper" if hidden else "unhide-paper"
            log_action(conn, admin.id, action, arxiv_id, None, now)


def delete_comment(
    db: Database, account: Account | None, comment_id: int, *, now: datetime
) -> None:
    admin = require_admin(account)
    with db.write() as conn:
        comment = store_comments.get_comment(conn, comment_id)
        store_comments.delete_comment(conn, comment_id, now)
        detail = (
            f"by {comment.username or 'deleted user'} on {comment.arxiv_id}: {comment.body[:300]}"
        )
        log_action(conn, admin.id, "delete-comment", f"comment {comment_id}", detail, now)


def dismiss_reports(
    db: Database, account: Account | None, comment_id: int, *, now: datetime
) -> None:
    admin = require_admin(account)
    with db.write() as conn:
        store_comments.get_comment(conn, comment_id)
        store_comments.resolve_reports(conn, comment_id, now)
        log_action(conn, admin.id, "dismiss-reports", f"comment {comment_id}", None, now)


def suspend_user(
    db: Database, account: Account | None, username: str, *, suspended: bool, now: datetime
) -> None:
    """Suspend (sessions end at once) or reinstate a user by username."""
    admin = require_admin(account)
    with db.write() as conn:
        target = store_users.find_user_by_username(conn, username.strip())
        if target is None:
            raise NotFound(f"there is no user named {username[:64]!r}")
        if target.id == admin.id:
            raise Conflict("you cannot suspend yourself")
        store_users.set_suspended(conn, target.id, now if suspended else None)
        action = "suspend-user" if suspended else "reinstate-user"
        log_action(conn, admin.id, action, f"user {target.username}", None, now)
