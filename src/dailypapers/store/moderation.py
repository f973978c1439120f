"""The moderation log: every admin action, who took it, on what, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from dailypapers.domain import ModerationEntry
from dailypapers.store.schema import moderation_log, users


def log_action(
    conn: Connection,
    actor_id: int,
    action: str,
    target: str,
    detail: str | None,
    now: datetime,
) -> None:
    conn.execute(
        moderation_log.insert().values(
            actor_id=actor_id, action=action, target=target[:128], detail=detail, created_at=now
        )
    )


def list_log(conn: Connection, *, limit: int = 100) -> list[ModerationEntry]:
    rows = conn.execute(
        select(
            moderation_log.c.id,
            users.c.username,
            moderation_log.c.action,
            moderation_log.c.target,
            moderation_log.c.detail,
            moderation_log.c.created_at,
        )
        .select_from(moderation_log.outerjoin(users, users.c.id == moderation_log.c.actor_id))
        .order_by(moderation_log.c.id.desc())
        .limit(limit)
    )
    return [ModerationEntry(*row) for row in rows]
