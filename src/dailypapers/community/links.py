"""A paper's code repository and project page, set by its submitter or an admin; every change
is logged in paper_link_changes.
"""

from __future__ import annotations

from datetime import datetime

from dailypapers.community.accounts import require_active
from dailypapers.community.validation import check_link
from dailypapers.domain import Account, LinkChange
from dailypapers.errors import NotFound, PermissionDenied
from dailypapers.store import Database
from dailypapers.store.paper_edits import (
    is_paper_hidden,
    list_link_changes,
    set_paper_links,
    submitter_of,
)


def can_edit_links(db: Database, account: Account | None, arxiv_id: str) -> bool:
    if account is None or account.is_suspended:
        return False
    if account.is_admin:
        return True
    with db.read() as conn:
        return submitter_of(conn, arxiv_id) == account.id


def update_links(
    db: Database,
    account: Account | None,
    arxiv_id: str,
    *,
    code_url: str,
    project_url: str,
    now: datetime,
) -> int:
    """Set both links (empty clears one); the number of fields changed."""
    editor = require_active(account)
    links = {
        "code_url": check_link(code_url, "code repository"),
        "project_url": check_link(project_url, "project page"),
    }
    with db.write() as conn:
        if is_paper_hidden(conn, arxiv_id) is None:
            raise NotFound(f"paper {arxiv_id} is not in this hub")
        if not editor.is_admin and submitter_of(conn, arxiv_id) != editor.id:
            raise PermissionDenied("only the paper's submitter or an admin can change its links")
        return set_paper_links(conn, arxiv_id, links, editor.id, now)


def link_history(db: Database, arxiv_id: str) -> list[LinkChange]:
    with db.read() as conn:
        return list_link_changes(conn, arxiv_id)
