"""Users, sessions, single-use token marks and API tokens. Returns domain values only.

Deleting an account anonymises its row instead of removing it, so its votes keep counting and
the papers it submitted stay listed; what identifies the person (email, names, comment text,
sessions, tokens) goes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.exc import IntegrityError

from dailypapers.domain import Account, ApiToken
from dailypapers.errors import Conflict, NotFound
from dailypapers.store.schema import (
    api_tokens,
    comment_reports,
    comments,
    featured,
    sessions,
    token_uses,
    users,
)
from dailypapers.store.upserts import insert_for


def _account(row: Any) -> Account:
    m = row._mapping
    return Account(
        id=m["id"],
        email=m["email"],
        username=m["username"],
        display_name=m["display_name"],
        is_admin=bool(m["is_admin"]),
        suspended_at=m["suspended_at"],
        created_at=m["created_at"],
        deleted_at=m["deleted_at"],
    )


def find_user_by_email(conn: Connection, email: str) -> Account | None:
    row = conn.execute(select(users).where(users.c.email == email)).first()
    return _account(row) if row else None


def find_user_by_username(conn: Connection, username: str) -> Account | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return _account(row) if row else None


def get_user(conn: Connection, user_id: int) -> Account:
    row = conn.execute(select(users).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id}")
    return _account(row)


def ensure_user(conn: Connection, email: str, username: str, now: datetime) -> Account:
    """The user with this email, created (with `username`) if there is none; race-safe."""
    conn.execute(
        insert_for(conn, users)
        .values(email=email, username=username, created_at=now, is_admin=False)
        .on_conflict_do_nothing(index_elements=[users.c.email])
    )
    found = find_user_by_email(conn, email)
    if found is None:
        raise Conflict("the account could not be created; please try again")
    return found


def is_username_taken(conn: Connection, username: str, *, other_than: int | None = None) -> bool:
    query = select(users.c.id).where(users.c.username == username)
    if other_than is not None:
        query = query.where(users.c.id != other_than)
    return conn.execute(query.limit(1)).first() is not None


def update_profile(conn: Connection, user_id: int, username: str, display_name: str | None) -> None:
    """Set the names; the user's submissions show the new username. Conflict when it is taken."""
    if is_username_taken(conn, username, other_than=user_id):
        raise Conflict(f"the username {username!r} is taken")
    try:
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(username=username, display_name=display_name)
        )
    except IntegrityError as exc:
        raise Conflict(f"the username {username!r} is taken") from exc
    conn.execute(
        update(featured).where(featured.c.submitted_by == user_id).values(submitter_name=username)
    )


def change_email(conn: Connection, user_id: int, email: str) -> None:
    if find_user_by_email(conn, email) is not None:
        raise Conflict("another account already uses this address")
    try:
        conn.execute(update(users).where(users.c.id == user_id).values(email=email))
    except IntegrityError as exc:
        raise Conflict("another account already uses this address") from exc


def anonymise_user(conn: Connection, user_id: int, now: datetime) -> None:
    """Delete an account's personal data; its votes stay (counts do not move)."""
    conn.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(email=None, username=None, display_name=None, is_admin=False, deleted_at=now)
    )
    # Live comments are deleted now; earlier-deleted ones keep their date. Both lose their text.
    conn.execute(
        update(comments)
        .where(comments.c.user_id == user_id, comments.c.deleted_at.is_(None))
        .values(deleted_at=now)
    )
    conn.execute(update(comments).where(comments.c.user_id == user_id).values(body=""))
    conn.execute(delete(comment_reports).where(comment_reports.c.reporter_id == user_id))
    conn.execute(
        update(featured).where(featured.c.submitted_by == user_id).values(submitter_name=None)
    )
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(delete(api_tokens).where(api_tokens.c.user_id == user_id))


def grant_admin(conn: Connection, email: str, username: str, now: datetime) -> Account:
    account = ensure_user(conn, email, username, now)
    conn.execute(update(users).where(users.c.id == account.id).values(is_admin=True))
    return get_user(conn, account.id)


def set_suspended(conn: Connection, user_id: int, suspended_at: datetime | None) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(suspended_at=suspended_at))
    if suspended_at is not None:
        conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def insert_session(
    conn: Connection, session_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(delete(sessions).where(sessions.c.expires_at < now))
    conn.execute(
        sessions.insert().values(
            id=session_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


def find_session_account(
    conn: Connection, session_hash: str, now: datetime
) -> tuple[Account, datetime] | None:
    """The live, undeleted account of a session and the session's expiry, or None."""
    row = conn.execute(
        select(users, sessions.c.expires_at.label("session_expires_at"))
        .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
        .where(
            sessions.c.id == session_hash,
            sessions.c.expires_at > now,
            users.c.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    return _account(row), row._mapping["session_expires_at"]


def delete_session(conn: Connection, session_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.id == session_hash))


def mark_token_used(
    conn: Connection, nonce: str, purpose: str, now: datetime, expires_at: datetime
) -> bool:
    """Record a single-use token as used; False when it already was."""
    conn.execute(delete(token_uses).where(token_uses.c.expires_at < now))
    result = conn.execute(
        insert_for(conn, token_uses)
        .values(nonce=nonce, purpose=purpose, used_at=now, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=[token_uses.c.nonce])
        .returning(token_uses.c.nonce)
    )
    return result.first() is not None


def is_token_used(conn: Connection, nonce: str) -> bool:
    found = conn.execute(select(token_uses.c.nonce).where(token_uses.c.nonce == nonce)).first()
    return found is not None


def insert_api_token(
    conn: Connection, user_id: int, name: str, token_hash: str, now: datetime
) -> None:
    conn.execute(
        api_tokens.insert().values(
            user_id=user_id, name=name, token_hash=token_hash, created_at=now
        )
    )


def list_api_tokens(conn: Connection, user_id: int) -> list[ApiToken]:
    rows = conn.execute(
        select(
            api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.last_used_at
        )
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.id)
    )
    return [ApiToken(*row) for row in rows]


def delete_api_token(conn: Connection, user_id: int, token_id: int) -> bool:
    result = conn.execute(
        delete(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
        .returning(api_tokens.c.id)
    )
    return result.first() is not None


def use_api_token(conn: Connection, token_hash: str, now: datetime) -> Account | None:
    """The live account behind an API token (and note its use), or None."""
    user_id = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_hash == token_hash)
        .values(last_used_at=now)
        .returning(api_tokens.c.user_id)
    ).scalar()
    if user_id is None:
        return None
    account = get_user(conn, int(user_id))
    return None if account.deleted_at is not None else account
