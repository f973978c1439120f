"""Everything the store holds about one user, for `dailypapers export --user` (data portability).

Read-only. Secrets are left out: session keys and API token hashes are never exported.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Select, or_, select

from dailypapers.store.schema import (
    api_tokens,
    comments,
    featured,
    paper_link_changes,
    saved_searches,
    subscribers,
    users,
    votes,
)

Record = dict[str, Any]


def _records(conn: Connection, stmt: Select[Any]) -> list[Record]:
    return [
        {key: _plain(value) for key, value in row._mapping.items()} for row in conn.execute(stmt)
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def find_user_id(conn: Connection, email: str) -> int | None:
    found = conn.execute(select(users.c.id).where(users.c.email == email)).scalar()
    return int(found) if found is not None else None


def collect_user_data(conn: Connection, user_id: int) -> dict[str, Any]:
    """The user's profile, votes, submissions, comments, subscriptions, saved searches, API
    tokens (names and dates only) and paper-link edits, oldest first within each list."""
    profile = _records(
        conn,
        select(
            users.c.email,
            users.c.username,
            users.c.display_name,
            users.c.is_admin,
            users.c.created_at,
            users.c.suspended_at,
        ).where(users.c.id == user_id),
    )[0]
    email = profile["email"]
    own_subscription = or_(subscribers.c.user_id == user_id, subscribers.c.email == email)
    subscriber_ids = select(subscribers.c.id).where(own_subscription)
    return {
        "profile": profile,
        "votes": _records(
            conn,
            select(votes.c.arxiv_id, votes.c.created_at)
            .where(votes.c.user_id == user_id)
            .order_by(votes.c.created_at, votes.c.arxiv_id),
        ),
        "submissions": _records(
            conn,
            select(featured.c.arxiv_id, featured.c.featured_on, featured.c.created_at)
            .where(featured.c.submitted_by == user_id)
            .order_by(featured.c.created_at, featured.c.arxiv_id),
        ),
        "comments": _records(
            conn,
            select(
                comments.c.id,
                comments.c.arxiv_id,
                comments.c.body,
                comments.c.created_at,
                comments.c.edited_at,
                comments.c.deleted_at,
            )
            .where(comments.c.user_id == user_id)
            .order_by(comments.c.created_at, comments.c.id),
        ),
        "subscriptions": _records(
            conn,
            select(
                subscribers.c.email,
                subscribers.c.frequency,
                subscribers.c.status,
                subscribers.c.preferences,
                subscribers.c.created_at,
                subscribers.c.consent_at,
                subscribers.c.consent_ip,
                subscribers.c.confirmed_at,
                subscribers.c.unsubscribed_at,
            )
            .where(own_subscription)
            .order_by(subscribers.c.created_at, subscribers.c.id),
        ),
        "saved_searches": _records(
            conn,
            select(saved_searches.c.query, saved_searches.c.created_at)
            .where(
                or_(
                    saved_searches.c.user_id == user_id,
                    saved_searches.c.subscriber_id.in_(subscriber_ids),
                )
            )
            .order_by(saved_searches.c.created_at, saved_searches.c.id),
        ),
        "api_tokens": _records(
            conn,
            select(api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at)
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.created_at, api_tokens.c.id),
        ),
        "paper_link_edits": _records(
            conn,
            select(
                paper_link_changes.c.arxiv_id,
                paper_link_changes.c.field,
                paper_link_changes.c.old_value,
                paper_link_changes.c.new_value,
                paper_link_changes.c.created_at,
            )
            .where(paper_link_changes.c.user_id == user_id)
            .order_by(paper_link_changes.c.created_at, paper_link_changes.c.id),
        ),
    }
