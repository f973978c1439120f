"""Comments and their reports. Deleting is soft (deleted_at), so the shown count drops while the
moderation log can still name what was removed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from dailypapers.domain import Comment, ReportedComment
from dailypapers.errors import NotFound
from dailypapers.store.schema import comment_reports, comments, papers, users
from dailypapers.store.upserts import insert_for


def _comment_select() -> Any:
    return select(
        comments,
        users.c.username,
        users.c.display_name,
    ).select_from(comments.outerjoin(users, users.c.id == comments.c.user_id))


def _comment(row: Any) -> Comment:
    m = row._mapping
    return Comment(
        id=m["id"],
        arxiv_id=m["arxiv_id"],
        user_id=m["user_id"],
        username=m["username"],
        display_name=m["display_name"],
        body=m["body"],
        created_at=m["created_at"],
        edited_at=m["edited_at"],
        deleted_at=m["deleted_at"],
    )


def insert_comment(conn: Connection, arxiv_id: str, user_id: int, body: str, now: datetime) -> int:
    return int(
        conn.execute(
            comments.insert()
            .values(arxiv_id=arxiv_id, user_id=user_id, body=body, created_at=now)
            .returning(comments.c.id)
        ).scalar_one()
    )


def get_comment(conn: Connection, comment_id: int) -> Comment:
    """A comment that is not deleted; raises NotFound."""
    row = conn.execute(
        _comment_select().where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound(f"there is no comment {comment_id}")
    return _comment(row)


def list_comments(conn: Connection, arxiv_id: str, *, limit: int = 500) -> list[Comment]:
    """A paper's live comments, oldest first."""
    rows = conn.execute(
        _comment_select()
        .where(comments.c.arxiv_id == arxiv_id, comments.c.deleted_at.is_(None))
        .order_by(comments.c.created_at, comments.c.id)
        .limit(limit)
    )
    return [_comment(row) for row in rows]


def update_comment(conn: Connection, comment_id: int, body: str, now: datetime) -> None:
    conn.execute(
        update(comments).where(comments.c.id == comment_id).values(body=body, edited_at=now)
    )


def delete_comment(conn: Connection, comment_id: int, now: datetime) -> None:
    conn.execute(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
        .values(deleted_at=now)
    )
    resolve_reports(conn, comment_id, now)


def insert_report(
    conn: Connection, comment_id: int, reporter_id: int, reason: str | None, now: datetime
) -> bool:
    """False when this user already reported this comment."""
    result = conn.execute(
        insert_for(conn, comment_reports)
        .values(comment_id=comment_id, reporter_id=reporter_id, reason=reason, created_at=now)
        .on_conflict_do_nothing(
            index_elements=[comment_reports.c.comment_id, comment_reports.c.reporter_id]
        )
        .returning(comment_reports.c.id)
    )
    return result.first() is not None


def resolve_reports(conn: Connection, comment_id: int, now: datetime) -> None:
    conn.execute(
        update(comment_reports)
        .where(comment_reports.c.comment_id == comment_id, comment_reports.c.resolved_at.is_(None))
        .values(resolved_at=now)
    )


def list_reported_comments(conn: Connection, *, limit: int = 100) -> list[ReportedComment]:
    """Live comments with open reports, most reported first."""
    open_reports = comment_reports.c.resolved_at.is_(None)
    counted = (
        select(
            comment_reports.c.comment_id,
            func.count().label("reports"),
            func.min(comment_reports.c.created_at).label("first_at"),
        )
        .where(open_reports)
        .group_by(comment_reports.c.comment_id)
        .subquery()
    )
    rows = conn.execute(
        _comment_select()
        .add_columns(counted.c.reports, counted.c.first_at, papers.c.title)
        .join(counted, counted.c.comment_id == comments.c.id)
        .join(papers, papers.c.arxiv_id == comments.c.arxiv_id)
        .where(comments.c.deleted_at.is_(None))
        .order_by(counted.c.reports.desc(), comments.c.id)
        .limit(limit)
    ).all()
    reasons: dict[int, list[str]] = defaultdict(list)
    ids = [row._mapping["id"] for row in rows]
    if ids:
        for comment_id, reason in conn.execute(
            select(comment_reports.c.comment_id, comment_reports.c.reason).where(
                comment_reports.c.comment_id.in_(ids), open_reports, comment_reports.c.reason != ""
            )
        ):
            if reason:
                reasons[comment_id].append(reason)
    return [
        ReportedComment(
            comment=_comment(row),
            paper_title=row._mapping["title"],
            reports=int(row._mapping["reports"]),
            reasons=tuple(reasons[row._mapping["id"]]),
            first_reported_at=_aware(row._mapping["first_at"]),
        )
        for row in rows
    ]


def _aware(value: Any) -> datetime:
    """min() loses the column type on SQLite and returns text: parse it back to aware UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
