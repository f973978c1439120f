"""The signed links a digest carries (DESIGN.md decision 7).

Opt-in links expire; unsubscribe, manage, view and feedback links live until the subscriber's
token version moves on. Their nonce is derived from what they carry, so the same digest renders
to the same bytes when a crashed run sends it again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, TypeGuard
from urllib.parse import quote

from dailypapers import tokens
from dailypapers.domain import Subscriber
from dailypapers.tokens import InvalidToken

CONFIRM = "digest-confirm"
UNSUBSCRIBE = "digest-unsubscribe"
MANAGE = "digest-manage"
VIEW = "digest-view"
FEEDBACK = "digest-feedback"
FEEDBACK_KINDS = ("up", "down", "mute")


def is_row_id(value: object) -> TypeGuard[int]:
    """An int the store can look up (the drivers refuse to bind one beyond 64 bits)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _nonce(secret: str, purpose: str, data: dict[str, Any]) -> str:
    text = purpose + "|" + "|".join(f"{k}={data[k]}" for k in sorted(data))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:22]


def long_lived(secret: str, purpose: str, subscriber: Subscriber, **extra: str) -> str:
    data: dict[str, Any] = {"s": subscriber.id, "v": subscriber.token_version, **extra}
    return tokens.sign_token(
        secret, purpose, data, expires_at=None, nonce=_nonce(secret, purpose, data)
    )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class LinkSigner:
    """`long_lived` for the many links of one run, with the HMAC keys prepared once: the same
    tokens as `tokens.sign_token` (tests/unit/test_digest_links.py holds them byte-equal), at
    about half the cost. The key derivation mirrors tokens.py's per-purpose key."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._nonce_mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
        self._token_macs: dict[str, hmac.HMAC] = {}

    def long_lived(self, purpose: str, subscriber: Subscriber, **extra: str) -> str:
        data: dict[str, Any] = {"s": subscriber.id, "v": subscriber.token_version, **extra}
        text = purpose + "|" + "|".join(f"{k}={data[k]}" for k in sorted(data))
        mac = self._nonce_mac.copy()
        mac.update(text.encode())
        body = {"p": purpose, "n": mac.hexdigest()[:22], "e": None, "d": data}
        payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        keyed = self._token_macs.get(purpose)
        if keyed is None:
            label = b"dailypapers-token:" + purpose.encode()
            key = hmac.new(self.secret.encode(), label, "sha256").digest()
            keyed = hmac.new(key, digestmod=hashlib.sha256)
            self._token_macs[purpose] = keyed
        signature = keyed.copy()
        signature.update(payload.encode())
        return f"{payload}.{_b64(signature.digest())}"


def confirm_token(secret: str, subscriber: Subscriber, *, expires_at: datetime) -> str:
    data = {"s": subscriber.id, "e": subscriber.email}
    return tokens.sign_token(secret, CONFIRM, data, expires_at=expires_at)


def find_refused_confirm_address(exc: InvalidToken) -> str | None:
    """The address a genuine opt-in link that was refused (expired) was sent to, to offer a fresh
    one; None when the link was not genuine. Confirms nothing."""
    claims = exc.claims
    if claims is None or claims.purpose != CONFIRM:
        return None
    email = claims.data.get("e")
    return email if isinstance(email, str) else None


def read_subscriber_id(secret: str, purpose: str, token: str, *, now: datetime) -> tuple[int, int]:
    """(subscriber id, token version) of a genuine long-lived link; InvalidToken otherwise."""
    claims = tokens.read_token(secret, purpose, token, now=now)
    sid, version = claims.data.get("s"), claims.data.get("v")
    if not is_row_id(sid) or not isinstance(version, int):
        raise InvalidToken("this link is not meant for this")
    return sid, version


def url(base_url: str, path: str, token: str) -> str:
    return f"{base_url}{path}?token={quote(token, safe='')}"
