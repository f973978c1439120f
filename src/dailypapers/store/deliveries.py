"""The digest delivery ledger: one (subscriber, period) row claimed before sending and marked
sent after the SMTP server accepts; the (subscriber, paper) ledger; every attempt logged.

Claims are leased: a row claimed by a worker that died is claimable again once `lease_until`
passes. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so several workers share one run; on
SQLite the write transaction (BEGIN IMMEDIATE) already serialises claimers.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from dailypapers.domain import DeliverySummary, DigestDelivery
from dailypapers.store.schema import (
    digest_attempts,
    digest_deliveries,
    digest_sent_papers,
    subscribers,
)
from dailypapers.store.upserts import insert_for

d = digest_deliveries


def _delivery(row: Any) -> DigestDelivery:
    m = row._mapping
    ids = m["paper_ids"]
    return DigestDelivery(
        id=m["id"],
        subscriber_id=m["subscriber_id"],
        period=m["period"],
        status=m["status"],
        attempts=m["attempts"],
        paper_ids=tuple((str(a), str(r)) for a, r in json.loads(ids)) if ids is not None else None,
        message_id=m["message_id"],
        sent_at=m["sent_at"],
        error=m["error"],
    )


def plan_period(conn: Connection, period: str, frequency: str) -> int:
    """A pending row for every confirmed subscriber of `frequency` without one; how many new."""
    chosen = select(subscribers.c.id).where(
        subscribers.c.status == "confirmed", subscribers.c.frequency == frequency
    )
    ids = [int(i) for i in conn.execute(chosen).scalars()]
    if not ids:
        return 0
    stmt = insert_for(conn, d).on_conflict_do_nothing(
        index_elements=[d.c.subscriber_id, d.c.period]
    )
    added = 0
    for start in range(0, len(ids), 1_000):
        rows = [
            {"subscriber_id": i, "period": period, "status": "pending", "attempts": 0}
            for i in ids[start : start + 1_000]
        ]
        result = conn.execute(stmt, rows)
        added += max(0, result.rowcount or 0)
    return added


def claim_batch(
    conn: Connection, period: str, *, limit: int, now: datetime, lease_until: datetime
) -> list[DigestDelivery]:
    """Claim up to `limit` rows that are pending, due for a retry, or whose lease expired."""
    ready = or_(
        d.c.status == "pending",
        and_(d.c.status == "retry", d.c.next_attempt_at <= now),
        and_(d.c.status == "claimed", d.c.lease_until < now),
    )
    stmt = select(d.c.id).where(d.c.period == period, ready).order_by(d.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = [int(i) for i in conn.execute(stmt).scalars()]
    if not ids:
        return []
    conn.execute(
        update(d)
        .where(d.c.id.in_(ids))
        .values(status="claimed", claimed_at=now, lease_until=lease_until)
    )
    rows = conn.execute(select(d).where(d.c.id.in_(ids)).order_by(d.c.id))
    return [_delivery(row) for row in rows]


def next_retry_at(conn: Connection, period: str) -> datetime | None:
    """When the earliest waiting retry of `period` becomes due (None: nothing waits)."""
    stmt = (
        select(d.c.next_attempt_at)
        .where(d.c.period == period, d.c.status == "retry")
        .order_by(d.c.next_attempt_at)
        .limit(1)
    )
    due: datetime | None = conn.execute(stmt).scalar()
    return due


def leased_until(conn: Connection, period: str) -> datetime | None:
    """When the last live claim of `period` (another worker's, or a dead one's) expires."""
    stmt = (
        select(d.c.lease_until)
        .where(d.c.period == period, d.c.status == "claimed")
        .order_by(d.c.lease_until.desc())
        .limit(1)
    )
    until: datetime | None = conn.execute(stmt).scalar()
    return until


def sent_paper_ids(conn: Connection, subscriber_ids: list[int]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {i: set() for i in subscriber_ids}
    if not subscriber_ids:
        return out
    stmt = select(digest_sent_papers.c.subscriber_id, digest_sent_papers.c.arxiv_id).where(
        digest_sent_papers.c.subscriber_id.in_(subscriber_ids)
    )
    for sid, arxiv_id in conn.execute(stmt):
        out[int(sid)].add(str(arxiv_id))
    return out


def record_plans(
    conn: Connection,
    plans: list[tuple[DigestDelivery, list[tuple[str, str]]]],
    *,
    now: datetime,
) -> None:
    """Fix each delivery's (paper, reason) pairs, so a resend carries the same content, and add
    the papers to the (subscriber, paper) ledger: two statements for the whole batch."""
    if not plans:
        return
    conn.execute(
        update(d)
        .where(d.c.id == bindparam("delivery_id"), d.c.paper_ids.is_(None))
        .values(paper_ids=bindparam("planned")),
        [
            {"delivery_id": delivery.id, "planned": json.dumps([list(pair) for pair in planned])}
            for delivery, planned in plans
        ],
    )
    rows = [
        {
            "subscriber_id": delivery.subscriber_id,
            "arxiv_id": arxiv_id,
            "period": delivery.period,
            "planned_at": now,
        }
        for delivery, planned in plans
        for arxiv_id, _ in planned
    ]
    if rows:
        conn.execute(insert_for(conn, digest_sent_papers).on_conflict_do_nothing(), rows)


_LOG_ATTEMPT = digest_attempts.insert()


def log_attempt(
    conn: Connection, delivery_id: int, outcome: str, detail: str | None, now: datetime
) -> None:
    conn.execute(
        _LOG_ATTEMPT, {"delivery_id": delivery_id, "at": now, "outcome": outcome, "detail": detail}
    )


@functools.cache
def _finish_statement(with_message_id: bool, with_sent_at: bool) -> Any:
    """The UPDATE that finishes a row, built once per shape (a send marks one row per message,
    so the statement is not rebuilt each time)."""
    values: dict[str, Any] = {
        "status": bindparam("new_status", type_=d.c.status.type),
        "lease_until": None,
        "error": bindparam("new_error", type_=d.c.error.type),
        "next_attempt_at": bindparam("new_next_attempt_at", type_=d.c.next_attempt_at.type),
        "attempts": d.c.attempts + 1,
    }
    if with_message_id:
        values["message_id"] = bindparam("new_message_id", type_=d.c.message_id.type)
    if with_sent_at:
        values["sent_at"] = bindparam("new_sent_at", type_=d.c.sent_at.type)
    return update(d).where(d.c.id == bindparam("delivery_id")).values(**values)


def finish(
    conn: Connection,
    delivery_id: int,
    status: str,
    *,
    now: datetime,
    message_id: str | None = None,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    """Mark a claimed row sent, quiet, retry (with its due time), bounced or failed, and log the
    attempt: two statements, committed by the caller before the next message goes out."""
    sent_at = status in ("sent", "quiet")
    params: dict[str, Any] = {
        "delivery_id": delivery_id,
        "new_status": status,
        "new_error": error,
        "new_next_attempt_at": next_attempt_at,
    }
    if message_id is not None:
        params["new_message_id"] = message_id
    if sent_at:
        params["new_sent_at"] = now
    conn.execute(_finish_statement(message_id is not None, sent_at), params)
    log_attempt(conn, delivery_id, status, error, now)


def defer(
    conn: Connection,
    delivery_ids: list[int],
    *,
    now: datetime,
    next_attempt_at: datetime,
    error: str,
    tried: int | None = None,
) -> None:
    """Put claimed rows back as retries due at `next_attempt_at` without spending an attempt:
    the SMTP server was away (no reply at all), which says nothing about these addresses.
    `tried` names the row whose attempt found it away: that attempt is logged."""
    if not delivery_ids:
        return
    conn.execute(
        update(d)
        .where(d.c.id.in_(delivery_ids), d.c.status == "claimed")
        .values(status="retry", lease_until=None, next_attempt_at=next_attempt_at, error=error)
    )
    if tried is not None:
        log_attempt(conn, tried, "retry", error, now)


def forget_plan(conn: Connection, delivery: DigestDelivery) -> None:
    """A bounced or failed delivery gives its papers back: they may go out another period."""
    conn.execute(
        delete(digest_sent_papers).where(
            digest_sent_papers.c.subscriber_id == delivery.subscriber_id,
            digest_sent_papers.c.period == delivery.period,
        )
    )


def counts(conn: Connection, period: str | None = None) -> dict[tuple[str, str], int]:
    """Rows per (period, status), newest periods first."""
    stmt = select(d.c.period, d.c.status, func.count()).group_by(d.c.period, d.c.status)
    if period is not None:
        stmt = stmt.where(d.c.period == period)
    return {(str(p), str(s)): int(n) for p, s, n in conn.execute(stmt)}


def recent_errors(conn: Connection, limit: int = 20) -> list[tuple[str, int, str, str]]:
    stmt = (
        select(d.c.period, d.c.subscriber_id, d.c.status, d.c.error)
        .where(d.c.error.is_not(None))
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    return [(str(p), int(s), str(st), str(e)) for p, s, st, e in conn.execute(stmt)]


def summarise(conn: Connection) -> DeliverySummary:
    """Subscribers per status, deliveries per period and status, and the newest errors."""
    per_period: dict[str, dict[str, int]] = {}
    for (period, status), n in sorted(counts(conn).items(), reverse=True):
        per_period.setdefault(period, {})[status] = n
    stmt = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    return DeliverySummary(
        subscribers={str(status): int(n) for status, n in conn.execute(stmt)},
        periods=per_period,
        recent_errors=tuple(recent_errors(conn)),
    )


def delivery_for(conn: Connection, subscriber_id: int, period: str) -> DigestDelivery | None:
    row = conn.execute(
        select(d).where(d.c.subscriber_id == subscriber_id, d.c.period == period)
    ).first()
    return _delivery(row) if row else None


def renew_lease(conn: Connection, ids: list[int], *, lease_until: datetime) -> None:
    conn.execute(
        update(d).where(d.c.id.in_(ids), d.c.status == "claimed").values(lease_until=lease_until)
    )
