"""Saved searches: query strings in the search page's syntax, owned by an account or by a
subscriber without one, that steer digests ("Matches your saved search …")."""

from __future__ import annotations

from datetime import datetime

from dailypapers.domain.arxiv import clean_text
from dailypapers.errors import InvalidRequest
from dailypapers.search.query import parse_query
from dailypapers.store import Database
from dailypapers.store import subscribers as store

MAX_SAVED = 20
MAX_QUERY_CHARS = 300


def _checked(text: str) -> str:
    # Control characters out: the query is printed into plain-text digests (an ESC would be a
    # terminal escape there) and shown on pages.
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidRequest("a saved search needs some words")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise InvalidRequest(f"a saved search has at most {MAX_QUERY_CHARS} characters")
    if parse_query(cleaned).blank_text:
        raise InvalidRequest("that search has no words to match")
    return cleaned


def list_saved(
    db: Database, *, user_id: int | None = None, subscriber_id: int | None = None
) -> list[tuple[int, str]]:
    with db.read() as conn:
        return store.saved_searches_of(conn, subscriber_id=subscriber_id, user_id=user_id)


def save(
    db: Database,
    text: str,
    *,
    now: datetime,
    user_id: int | None = None,
    subscriber_id: int | None = None,
) -> str:
    query = _checked(text)
    with db.write() as conn:
        existing = store.saved_searches_of(conn, subscriber_id=subscriber_id, user_id=user_id)
        if any(q == query for _, q in existing):
            return query
        if len(existing) >= MAX_SAVED:
            raise InvalidRequest(f"at most {MAX_SAVED} saved searches; delete one first")
        store.add_saved_search(conn, query, subscriber_id=subscriber_id, user_id=user_id, now=now)
    return query


def delete(
    db: Database, search_id: int, *, user_id: int | None = None, subscriber_id: int | None = None
) -> None:
    with db.write() as conn:
        store.delete_saved_search(conn, search_id, subscriber_id=subscriber_id, user_id=user_id)


def replace_all(db: Database, lines: str, *, subscriber_id: int, now: datetime) -> None:
    """The manage page's list: one search per line replaces the subscriber's own searches."""
    wanted = list(dict.fromkeys(_checked(line) for line in lines.splitlines() if line.strip()))
    if len(wanted) > MAX_SAVED:
        raise InvalidRequest(f"at most {MAX_SAVED} saved searches")
    with db.write() as conn:
        for search_id, _ in store.saved_searches_of(
            conn, subscriber_id=subscriber_id, user_id=None
        ):
            store.delete_saved_search(conn, search_id, subscriber_id=subscriber_id, user_id=None)
        for query in wanted:
            store.add_saved_search(conn, query, subscriber_id=subscriber_id, user_id=None, now=now)
