"""Digest subscribers, their preferences, saved searches and feedback; domain values only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from dailypapers.domain import DigestPreferences, Subscriber
from dailypapers.errors import NotFound
from dailypapers.store.schema import digest_feedback, saved_searches, subscribers, votes
from dailypapers.store.upserts import insert_for


def _preferences(raw: str | None) -> DigestPreferences:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}

    def words(name: str) -> tuple[str, ...]:
        value = data.get(name, [])
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    return DigestPreferences(
        keywords=words("keywords"),
        exclude=words("exclude"),
        categories=words("categories"),
        authors=words("authors"),
        more_like_upvotes=bool(data.get("more_like_upvotes", False)),
        muted_topics=words("muted_topics"),
    )


def preferences_json(prefs: DigestPreferences) -> str:
    return json.dumps(
        {
            "keywords": list(prefs.keywords),
            "exclude": list(prefs.exclude),
            "categories": list(prefs.categories),
            "authors": list(prefs.authors),
            "more_like_upvotes": prefs.more_like_upvotes,
            "muted_topics": list(prefs.muted_topics),
        },
        sort_keys=True,
    )


def _subscriber(row: Any) -> Subscriber:
    m = row._mapping
    return Subscriber(
        id=m["id"],
        email=m["email"],
        frequency=m["frequency"],
        status=m["status"],
        user_id=m["user_id"],
        token_version=m["token_version"],
        consent_at=m["consent_at"],
        consent_ip=m["consent_ip"],
        created_at=m["created_at"],
        confirmed_at=m["confirmed_at"],
        unsubscribed_at=m["unsubscribed_at"],
        bounce_count=m["bounce_count"],
        preferences=_preferences(m["preferences"]),
    )


def find_subscriber(conn: Connection, email: str) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
    return _subscriber(row) if row else None


def get_subscriber(conn: Connection, subscriber_id: int) -> Subscriber:
    row = conn.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
    if row is None:
        raise NotFound("no such subscription")
    return _subscriber(row)


def subscribers_by_ids(conn: Connection, ids: list[int]) -> dict[int, Subscriber]:
    if not ids:
        return {}
    rows = conn.execute(select(subscribers).where(subscribers.c.id.in_(ids)))
    return {int(row.id): _subscriber(row) for row in rows}


def subscriber_for_user(conn: Connection, user_id: int) -> Subscriber | None:
    row = conn.execute(select(subscribers).where(subscribers.c.user_id == user_id)).first()
    return _subscriber(row) if row else None


def add_pending(
    conn: Connection, email: str, frequency: str, *, user_id: int | None, now: datetime
) -> Subscriber:
    """A new pending subscription, or the existing one (pending again if it had left)."""
    stmt = insert_for(conn, subscribers).values(
        email=email, frequency=frequency, status="pending", user_id=user_id, created_at=now
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=[subscribers.c.email]))
    existing = find_subscriber(conn, email)
    assert existing is not None
    if existing.status == "unsubscribed":
        conn.execute(
            update(subscribers)
            .where(subscribers.c.id == existing.id)
            .values(status="pending", frequency=frequency)
        )
        existing = get_subscriber(conn, existing.id)
    return existing


def confirm(conn: Connection, subscriber_id: int, *, ip: str, now: datetime) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(
            status="confirmed",
            consent_at=now,
            consent_ip=ip[:64],
            confirmed_at=now,
            unsubscribed_at=None,
            bounce_count=0,
        )
    )


def mark_pending(conn: Connection, subscriber_id: int) -> None:
    conn.execute(
        update(subscribers).where(subscribers.c.id == subscriber_id).values(status="pending")
    )


def unsubscribe(conn: Connection, subscriber_id: int, *, now: datetime) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.status != "unsubscribed")
        .values(status="unsubscribed", unsubscribed_at=now)
    )


def rotate_token_version(conn: Connection, subscriber_id: int) -> None:
    """Revoke every link mailed so far (unsubscribe, manage, feedback)."""
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(token_version=subscribers.c.token_version + 1)
    )


def update_settings(
    conn: Connection, subscriber_id: int, *, frequency: str, prefs: DigestPreferences
) -> None:
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(frequency=frequency, preferences=preferences_json(prefs))
    )


def change_email(conn: Connection, subscriber_id: int, email: str) -> None:
    conn.execute(update(subscribers).where(subscribers.c.id == subscriber_id).values(email=email))


def record_bounce(conn: Connection, subscriber_id: int, *, threshold: int) -> None:
    """Count a permanent refusal; at `threshold` the address is marked bouncing and left alone."""
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id)
        .values(bounce_count=subscribers.c.bounce_count + 1)
    )
    conn.execute(
        update(subscribers)
        .where(subscribers.c.id == subscriber_id, subscribers.c.bounce_count >= threshold)
        .values(status="bouncing")
    )


def confirmed_ids(conn: Connection, frequency: str) -> list[int]:
    stmt = select(subscribers.c.id).where(
        subscribers.c.status == "confirmed", subscribers.c.frequency == frequency
    )
    return [int(i) for i in conn.execute(stmt.order_by(subscribers.c.id)).scalars()]


def count_by_status(conn: Connection) -> dict[str, int]:
    stmt = select(subscribers.c.status, func.count()).group_by(subscribers.c.status)
    return {str(status): int(n) for status, n in conn.execute(stmt)}


def saved_queries(conn: Connection, subscriber_id: int, user_id: int | None) -> list[str]:
    cond = saved_searches.c.subscriber_id == subscriber_id
    if user_id is not None:
        cond = cond | (saved_searches.c.user_id == user_id)
    stmt = select(saved_searches.c.query).where(cond).order_by(saved_searches.c.id)
    return [str(q) for q in conn.execute(stmt).scalars()]


def saved_searches_of(
    conn: Connection, *, subscriber_id: int | None, user_id: int | None
) -> list[tuple[int, str]]:
    if subscriber_id is None and user_id is None:
        return []
    cond = (
        saved_searches.c.subscriber_id == subscriber_id
        if subscriber_id is not None
        else saved_searches.c.user_id == user_id
    )
    stmt = select(saved_searches.c.id, saved_searches.c.query).where(cond)
    return [(int(i), str(q)) for i, q in conn.execute(stmt.order_by(saved_searches.c.id))]


def add_saved_search(
    conn: Connection, query: str, *, subscriber_id: int | None, user_id: int | None, now: datetime
) -> None:
    conn.execute(
        saved_searches.insert().values(
            subscriber_id=subscriber_id, user_id=user_id, query=query, created_at=now
        )
    )


def delete_saved_search(
    conn: Connection, search_id: int, *, subscriber_id: int | None, user_id: int | None
) -> None:
    cond = (
        saved_searches.c.subscriber_id == subscriber_id
        if subscriber_id is not None
        else saved_searches.c.user_id == user_id
    )
    conn.execute(delete(saved_searches).where(saved_searches.c.id == search_id, cond))


def add_feedback(
    conn: Connection, subscriber_id: int, arxiv_id: str, kind: str, topic: str | None, now: datetime
) -> None:
    stmt = insert_for(conn, digest_feedback).values(
        subscriber_id=subscriber_id, arxiv_id=arxiv_id, kind=kind, topic=topic, created_at=now
    )
    conn.execute(stmt.on_conflict_do_nothing())


def feedback_of(conn: Connection, subscriber_id: int) -> list[tuple[str, str, str | None]]:
    stmt = select(digest_feedback.c.arxiv_id, digest_feedback.c.kind, digest_feedback.c.topic)
    rows = conn.execute(stmt.where(digest_feedback.c.subscriber_id == subscriber_id))
    return [(str(a), str(k), t) for a, k, t in rows]


# Bulk reads for a digest batch: one query each for the whole batch instead of one per subscriber.


def feedback_for(
    conn: Connection, subscriber_ids: list[int]
) -> dict[int, list[tuple[str, str, str | None]]]:
    """subscriber id -> their (paper, kind, topic) feedback, oldest first."""
    out: dict[int, list[tuple[str, str, str | None]]] = {i: [] for i in subscriber_ids}
    if not subscriber_ids:
        return out
    f = digest_feedback.c
    stmt = (
        select(f.subscriber_id, f.arxiv_id, f.kind, f.topic)
        .where(f.subscriber_id.in_(subscriber_ids))
        .order_by(f.id)
    )
    for sid, arxiv_id, kind, topic in conn.execute(stmt):
        out[int(sid)].append((str(arxiv_id), str(kind), topic))
    return out


def saved_queries_for(
    conn: Connection, owners: list[tuple[int, int | None]]
) -> dict[int, list[str]]:
    """subscriber id -> the query texts saved by the subscriber or by its account, oldest first;
    `owners` are (subscriber id, user id or None) pairs."""
    out: dict[int, list[str]] = {sid: [] for sid, _ in owners}
    if not owners:
        return out
    by_user: dict[int, list[int]] = {}
    for sid, uid in owners:
        if uid is not None:
            by_user.setdefault(uid, []).append(sid)
    s = saved_searches.c
    cond = (
        or_(s.subscriber_id.in_(list(out)), s.user_id.in_(list(by_user)))
        if by_user
        else s.subscriber_id.in_(list(out))
    )
    stmt = select(s.subscriber_id, s.user_id, s.query).where(cond).order_by(s.id)
    for sid, uid, query in conn.execute(stmt):
        targets = set(by_user.get(int(uid), ())) if uid is not None else set()
        if sid is not None and int(sid) in out:
            targets.add(int(sid))
        for target in targets:
            out[target].append(str(query))
    return out


def upvoted_for(conn: Connection, user_ids: list[int], *, limit: int) -> dict[int, list[str]]:
    """user id -> the papers they upvoted, most recent vote first, at most `limit` each."""
    out: dict[int, list[str]] = {u: [] for u in user_ids}
    if not user_ids:
        return out
    v = votes.c
    stmt = (
        select(v.user_id, v.arxiv_id)
        .where(v.user_id.in_(user_ids))
        .order_by(v.user_id, v.created_at.desc(), v.arxiv_id)
    )
    for uid, arxiv_id in conn.execute(stmt):
        chosen = out[int(uid)]
        if len(chosen) < limit:
            chosen.append(str(arxiv_id))
    return out
