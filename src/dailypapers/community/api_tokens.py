"""Personal API tokens: made on the account page, shown once, kept as a sha256, revocable."""

from __future__ import annotations

import secrets
from datetime import datetime

from dailypapers import tokens
from dailypapers.community.validation import check_display_name
from dailypapers.domain import Account, ApiToken
from dailypapers.errors import InvalidRequest, NotFound
from dailypapers.store import Database
from dailypapers.store import users as store_users

TOKEN_PREFIX = "dp_"
MAX_TOKENS_PER_USER = 20


def create_api_token(db: Database, account: Account, name: str, *, now: datetime) -> str:
    """A new token for `account`; the only time its value is ever shown."""
    label = check_display_name(name) or "API token"
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as conn:
        if len(store_users.list_api_tokens(conn, account.id)) >= MAX_TOKENS_PER_USER:
            raise InvalidRequest(f"at most {MAX_TOKENS_PER_USER} tokens; revoke one first")
        store_users.insert_api_token(conn, account.id, label, tokens.digest(value), now)
    return value


def list_api_tokens(db: Database, account: Account) -> list[ApiToken]:
    with db.read() as conn:
        return store_users.list_api_tokens(conn, account.id)


def revoke_api_token(db: Database, account: Account, token_id: int) -> None:
    with db.write() as conn:
        if not store_users.delete_api_token(conn, account.id, token_id):
            raise NotFound("there is no such token on your account")


def account_for_token(db: Database, value: str, *, now: datetime) -> Account | None:
    """The account behind a bearer token, or None for an unknown or malformed one."""
    if not value.startswith(TOKEN_PREFIX) or len(value) > 200:
        return None
    with db.write() as conn:
        return store_users.use_api_token(conn, tokens.digest(value), now)
