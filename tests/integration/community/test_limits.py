"""Rate limits live in the store, so every worker shares them: sign-in per IP and per address,
comments per user. Use cases over a real store on both backends, with a small policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dailypapers.community.accounts import request_sign_in
from dailypapers.community.comments import post_comment
from dailypapers.domain import PaperRecord
from dailypapers.errors import RateLimited
from dailypapers.mail import OutboxMailer
from dailypapers.store import Database
from dailypapers.store.papers import upsert_papers
from dailypapers.store.users import ensure_user
from tests.factories import community_policy

SECRET = "limits-test-secret-0123456789abcdef0123456789"
NOW = datetime(2026, 11, 28, 12, 30, tzinfo=UTC)
POLICY = community_policy(
    signin_per_hour_per_ip=3, signin_per_hour_per_address=2, comments_per_hour=2
)


def test_sign_in_links_are_limited_per_ip_and_per_address(db: Database, tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox", "Papers <noreply@example.org>")

    def ask(email: str, ip: str, now: datetime = NOW) -> str:
        return request_sign_in(
            db, mailer, POLICY, SECRET, email=email, ip=ip, next_path="/", now=now
        )

    ask("a@example.org", "192.0.2.1")
    ask("a@example.org", "192.0.2.1")
    with pytest.raises(RateLimited, match="for this address") as refused:
        ask("a@example.org", "192.0.2.9")
    assert 0 < refused.value.retry_after_seconds <= 30 * 60
    ask("b@example.org", "192.0.2.1")
    with pytest.raises(RateLimited, match="from your network"):
        ask("c@example.org", "192.0.2.1")
    ask("c@example.org", "192.0.2.2")
    ask("a@example.org", "192.0.2.1", NOW + timedelta(hours=1))  # a new window
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 5


def test_comments_are_limited_per_user_per_hour(db: Database) -> None:
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord("2611.00001", "T", "A", ("X",))], now=NOW)
        talker = ensure_user(conn, "talk@example.org", "talker", NOW)
        other = ensure_user(conn, "other@example.org", "other", NOW)
    for body in ("one", "two"):
        post_comment(db, POLICY, talker, "2611.00001", body, now=NOW)
    with pytest.raises(RateLimited, match="comments"):
        post_comment(db, POLICY, talker, "2611.00001", "three", now=NOW)
    post_comment(db, POLICY, other, "2611.00001", "mine", now=NOW)
    post_comment(db, POLICY, talker, "2611.00001", "later", now=NOW + timedelta(hours=1))
