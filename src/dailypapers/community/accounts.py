"""Accounts without passwords: sign-in links by mail, sessions, profiles, email changes, deletion.

A sign-in link is a signed token (15 minutes) whose nonce is marked used in the same transaction
that creates the session, so a link works once. Reading a link (the page a mail scanner fetches)
never marks it. Sessions are random values; the store keeps only their sha256.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from dailypapers import tokens
from dailypapers.community import rate_limits
from dailypapers.community.policy import CommunityPolicy
from dailypapers.community.validation import check_display_name, check_username, normalise_email
from dailypapers.domain import Account
from dailypapers.errors import Conflict, NotSignedIn, PermissionDenied, SourceUnavailable
from dailypapers.mail import Mailer, OutgoingMail
from dailypapers.store import Connection, Database
from dailypapers.store import users as store_users

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the account, the session key (sha256) and when it ends."""

    account: Account
    key: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie_value: str
    expires_at: datetime
    account: Account
    next_path: str


@dataclass(frozen=True, slots=True)
class SignInLink:
    email: str
    next_path: str


def local_path(raw: str | None, default: str = "/") -> str:
    """`raw` when it is a path on this site, else `default`: no open redirects."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return default
    if any(ord(ch) < 0x20 or ch == "\x7f" for ch in raw) or len(raw) > 2_000:
        return default
    return raw


def request_sign_in(
    db: Database,
    mailer: Mailer,
    policy: CommunityPolicy,
    secret: str,
    *,
    email: str,
    ip: str,
    next_path: str | None,
    now: datetime,
) -> str:
    """Mail a sign-in link to `email`; the normalised address. Rate-limited per IP and address."""
    address = normalise_email(email)
    with db.write() as conn:
        rate_limits.take(
            conn,
            _address_key(address),
            limit=policy.signin_per_hour_per_address,
            window=rate_limits.HOUR,
            now=now,
            what="sign-in links for this address",
        )
        account = store_users.find_user_by_email(conn, address)
        # Last, so the network's shared counter row is locked only until the commit just after.
        rate_limits.take(
            conn,
            f"signin-ip:{ip}",
            limit=policy.signin_per_hour_per_ip,
            window=rate_limits.HOUR,
            now=now,
            what="sign-in requests from your network",
        )
    if account is not None and account.is_suspended:
        raise PermissionDenied("this account is suspended")
    token = tokens.sign_token(
        secret,
        tokens.SIGN_IN,
        {"email": address, "next": local_path(next_path)},
        expires_at=now + tokens.SIGN_IN_LIFETIME,
    )
    link = f"{policy.base_url}/signin/confirm?token={token}"
    minutes = int(tokens.SIGN_IN_LIFETIME.total_seconds() // 60)
    _send(
        mailer,
        OutgoingMail(
            to=address,
            subject=f"Sign in to {policy.site_name}",
            text=(
                f"Hello,\n\nTo sign in to {policy.site_name}, open this link within {minutes} "
                f"minutes and press the button on the page:\n\n{link}\n\nThe link works once. "
                "If you did not ask for it, ignore this message: nothing happens without the "
                "button.\n"
            ),
        ),
    )
    return address


def _send(mailer: Mailer, mail: OutgoingMail) -> None:
    try:
        mailer.send(mail)
    except SourceUnavailable as exc:
        log.warning("could not send mail to %s: %s", mail.to, exc)
        raise SourceUnavailable(
            "the mail could not be sent just now; please try again in a few minutes"
        ) from exc


def _claims(secret: str, token: str, now: datetime) -> tuple[tokens.TokenClaims, SignInLink]:
    claims = tokens.read_token(secret, tokens.SIGN_IN, token, now=now)
    email, next_path = claims.data.get("email"), claims.data.get("next")
    if not isinstance(email, str) or not claims.nonce or claims.expires_at is None:
        raise tokens.InvalidToken("this link or token is malformed")
    return claims, SignInLink(email, local_path(next_path if isinstance(next_path, str) else None))


def read_sign_in_link(db: Database, secret: str, token: str, *, now: datetime) -> SignInLink:
    """What a sign-in link would do, without using it; InvalidToken if it cannot be used."""
    claims, link = _claims(secret, token, now)
    with db.read() as conn:
        if store_users.is_token_used(conn, claims.nonce):
            raise tokens.InvalidToken(
                "this link was already used; ask for a new one", claims=claims
            )
    return link


def find_refused_sign_in(exc: tokens.InvalidToken) -> SignInLink | None:
    """What a genuine sign-in link that was refused (expired, used) was for, to offer a fresh
    one to the same address; None when the link was not genuine. Never signs anyone in."""
    claims = exc.claims
    if claims is None or claims.purpose != tokens.SIGN_IN:
        return None
    email, next_path = claims.data.get("email"), claims.data.get("next")
    if not isinstance(email, str):
        return None
    return SignInLink(email, local_path(next_path if isinstance(next_path, str) else None))


def complete_sign_in(
    db: Database, policy: CommunityPolicy, secret: str, token: str, *, now: datetime
) -> NewSession:
    """Use the link: create the account on first use, and a session. Works once."""
    claims, link = _claims(secret, token, now)
    assert claims.expires_at is not None
    cookie_value = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=policy.session_days)
    with db.write() as conn:
        if not store_users.mark_token_used(
            conn, claims.nonce, tokens.SIGN_IN, now, claims.expires_at
        ):
            raise tokens.InvalidToken(
                "this link was already used; ask for a new one", claims=claims
            )
        account = store_users.find_user_by_email(conn, link.email)
        if account is None:
            account = store_users.ensure_user(conn, link.email, _free_username(conn), now)
        if account.is_suspended:
            raise PermissionDenied("this account is suspended")
        store_users.insert_session(conn, tokens.digest(cookie_value), account.id, now, expires_at)
    return NewSession(cookie_value, expires_at, account, link.next_path)


def _free_username(conn: Connection) -> str:
    while True:
        candidate = f"reader-{secrets.token_hex(3)}"
        if not store_users.is_username_taken(conn, candidate):
            return candidate


def find_session(db: Database, cookie_value: str, *, now: datetime) -> Session | None:
    if not cookie_value or len(cookie_value) > 200:
        return None
    key = tokens.digest(cookie_value)
    with db.read() as conn:
        found = store_users.find_session_account(conn, key, now)
    if found is None:
        return None
    account, expires_at = found
    return Session(account, key, expires_at)


def sign_out(db: Database, session: Session) -> None:
    with db.write() as conn:
        store_users.delete_session(conn, session.key)


def update_profile(db: Database, account: Account, *, username: str, display_name: str) -> None:
    name = check_username(username)
    shown = check_display_name(display_name)
    with db.write() as conn:
        store_users.update_profile(conn, account.id, name, shown)


def request_email_change(
    db: Database,
    mailer: Mailer,
    policy: CommunityPolicy,
    secret: str,
    account: Account,
    *,
    new_email: str,
    now: datetime,
) -> str:
    """Mail a confirmation link to the new address; the address changes only once it is used."""
    address = normalise_email(new_email)
    if address == account.email:
        raise Conflict("this is already your address")
    with db.write() as conn:
        rate_limits.take(
            conn,
            _address_key(address),
            limit=policy.signin_per_hour_per_address,
            window=rate_limits.HOUR,
            now=now,
            what="links for this address",
        )
        if store_users.find_user_by_email(conn, address) is not None:
            raise Conflict("another account already uses this address")
    token = tokens.sign_token(
        secret,
        tokens.EMAIL_CHANGE,
        {"user": account.id, "email": address},
        expires_at=now + tokens.EMAIL_CHANGE_LIFETIME,
    )
    _send(
        mailer,
        OutgoingMail(
            to=address,
            subject=f"Confirm your new address on {policy.site_name}",
            text=(
                f"Hello,\n\nSomeone signed in to {policy.site_name} as {account.username} asked "
                f"to use this address for their account. To confirm, open this link and press "
                f"the button on the page:\n\n{policy.base_url}/account/email/confirm?token="
                f"{token}\n\nIf it was not you, ignore this message.\n"
            ),
        ),
    )
    return address


def read_email_change(secret: str, token: str, *, now: datetime) -> str:
    claims = tokens.read_token(secret, tokens.EMAIL_CHANGE, token, now=now)
    email = claims.data.get("email")
    if not isinstance(email, str):
        raise tokens.InvalidToken("this link or token is malformed")
    return email


def confirm_email_change(db: Database, secret: str, token: str, *, now: datetime) -> str:
    claims = tokens.read_token(secret, tokens.EMAIL_CHANGE, token, now=now)
    email, user_id = claims.data.get("email"), claims.data.get("user")
    if not isinstance(email, str) or not isinstance(user_id, int) or claims.expires_at is None:
        raise tokens.InvalidToken("this link or token is malformed")
    with db.write() as conn:
        if not store_users.mark_token_used(
            conn, claims.nonce, tokens.EMAIL_CHANGE, now, claims.expires_at
        ):
            raise tokens.InvalidToken("this link was already used", claims=claims)
        account = store_users.get_user(conn, user_id)
        if account.deleted_at is not None or account.is_suspended:
            raise PermissionDenied("this account can no longer change its address")
        store_users.change_email(conn, user_id, email)
    return email


def delete_account(db: Database, account: Account, *, now: datetime) -> None:
    """Remove personal data; votes keep counting and submitted papers stay listed."""
    with db.write() as conn:
        store_users.anonymise_user(conn, account.id, now)


def grant_admin(db: Database, email: str, *, now: datetime) -> Account:
    """Make the account with this address an admin, creating it if needed (for bootstrap)."""
    address = normalise_email(email)
    with db.write() as conn:
        return store_users.grant_admin(conn, address, _free_username(conn), now)


def require_active(account: Account | None) -> Account:
    if account is None:
        raise NotSignedIn("please sign in first")
    if account.is_suspended or account.deleted_at is not None:
        raise PermissionDenied("this account is suspended")
    return account


def _address_key(address: str) -> str:
    """The rate-limit key of links mailed to `address` (sign-in and email change share it); the
    address itself is not stored, only its digest."""
    return f"signin-email:{tokens.digest(address)}"
