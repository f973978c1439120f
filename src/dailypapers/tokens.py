"""Signed, purpose-bound, expiring tokens (sign-in, email change, CSRF; opt-in, unsubscribe next).

A token is `base64url(json body) "." base64url(HMAC-SHA256)`. The key is derived per purpose from
the one secret, and the body names its purpose, so a token minted for one purpose never verifies
for another. Expiry is written into the body by the issuer (None: valid until revoked by other
means, e.g. a per-subscriber token version) and checked against the caller's `now`. Single use is
the store's business: tokens carry a random `nonce` the store can remember. stdlib hmac only; see
docs/community.md for why not itsdangerous (its clock is `time.time()`, not an injected `now`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dailypapers.errors import InvalidRequest

# Purposes and their lifetimes (DESIGN.md decision 7).
SIGN_IN = "sign-in"
EMAIL_CHANGE = "email-change"
CSRF = "csrf"
SIGN_IN_LIFETIME = timedelta(minutes=15)
EMAIL_CHANGE_LIFETIME = timedelta(hours=24)
# A token longer than this is refused before any decoding (characters).
MAX_TOKEN_CHARS = 4_096


@dataclass(frozen=True, slots=True)
class TokenClaims:
    purpose: str
    nonce: str
    expires_at: datetime | None
    data: dict[str, Any]


class InvalidToken(InvalidRequest):
    """The token is malformed, forged, for another purpose, or expired.

    `claims` is set when the token was genuine but can no longer be used (expired, already used),
    so the page that refuses it can say what it was for and offer a fresh one. Nothing may be
    granted on their strength.
    """

    def __init__(self, message: str, *, claims: TokenClaims | None = None) -> None:
        super().__init__(message)
        self.claims = claims


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), b"dailypapers-token:" + purpose.encode(), "sha256").digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(
    secret: str,
    purpose: str,
    data: dict[str, Any],
    *,
    expires_at: datetime | None,
    nonce: str | None = None,
) -> str:
    """A token for `purpose` carrying `data` (JSON values), valid until `expires_at`."""
    body = {
        "p": purpose,
        "n": nonce or new_nonce(),
        "e": int(expires_at.timestamp()) if expires_at is not None else None,
        "d": data,
    }
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(_key(secret, purpose), payload.encode(), "sha256").digest()
    return f"{payload}.{_b64(signature)}"


def read_token(secret: str, purpose: str, token: str, *, now: datetime) -> TokenClaims:
    """The claims of a genuine, unexpired token for `purpose`; raises InvalidToken otherwise."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidToken("this link or token is malformed")
    payload, _, signature = token.partition(".")
    expected = hmac.new(_key(secret, purpose), payload.encode(), "sha256").digest()
    try:
        given = _unb64(signature)
        body = json.loads(_unb64(payload))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("this link or token is malformed") from exc
    if not hmac.compare_digest(expected, given):
        raise InvalidToken("this link or token is not genuine")
    if not isinstance(body, dict) or body.get("p") != purpose:
        raise InvalidToken("this link or token is not meant for this")
    if not isinstance(body.get("d"), dict):
        raise InvalidToken("this link or token is not meant for this")
    expires = body.get("e")
    expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None
    claims = TokenClaims(purpose, str(body.get("n", "")), expires_at, body["d"])
    if expires_at is not None and now >= expires_at:
        raise InvalidToken("this link has expired; ask for a new one", claims=claims)
    return claims


def digest(value: str) -> str:
    """sha256 hex of a bearer secret: what the store keeps instead of the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token(secret: str, binding: str, *, expires_at: datetime) -> str:
    """A CSRF token for forms shown to one browser (its session key, or its anonymous key)."""
    return sign_token(secret, CSRF, {"b": binding}, expires_at=expires_at)


def is_valid_csrf(secret: str, binding: str, token: str, *, now: datetime) -> bool:
    try:
        claims = read_token(secret, CSRF, token, now=now)
    except InvalidToken:
        return False
    return bool(binding) and hmac.compare_digest(str(claims.data.get("b", "")), binding)
