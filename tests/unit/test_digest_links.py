"""The run-level LinkSigner mints exactly the tokens `links.long_lived` (tokens.sign_token) does,
and they verify as before."""

from __future__ import annotations

from datetime import UTC, datetime

from dailypapers.digest import links
from dailypapers.domain import DigestPreferences, Subscriber

SECRET = "unit-secret-0123456789abcdef-0123456789abcdef"


def _subscriber(sid: int, version: int) -> Subscriber:
    now = datetime(2026, 11, 4, tzinfo=UTC)
    return Subscriber(
        id=sid,
        email=f"s{sid}@example.org",
        frequency="weekly",
        status="confirmed",
        user_id=None,
        token_version=version,
        consent_at=now,
        consent_ip="192.0.2.1",
        created_at=now,
        confirmed_at=now,
        unsubscribed_at=None,
        bounce_count=0,
        preferences=DigestPreferences(),
    )


def test_the_signer_mints_the_same_tokens_as_long_lived() -> None:
    signer = links.LinkSigner(SECRET)
    cases = [
        (links.FEEDBACK, {"a": "2411.01234"}),
        (links.FEEDBACK, {"a": "hep-th/9901001"}),
        (links.UNSUBSCRIBE, {}),
        (links.MANAGE, {}),
        (links.VIEW, {"p": "weekly:2026-W45"}),
        (links.VIEW, {"p": "daily:2026-11-04 ünïcode"}),
    ]
    for sid, version in ((1, 1), (42, 7)):
        subscriber = _subscriber(sid, version)
        for purpose, extra in cases:
            expected = links.long_lived(SECRET, purpose, subscriber, **extra)
            assert signer.long_lived(purpose, subscriber, **extra) == expected
            now = datetime(2027, 6, 1, tzinfo=UTC)
            assert links.read_subscriber_id(SECRET, purpose, expected, now=now) == (sid, version)
