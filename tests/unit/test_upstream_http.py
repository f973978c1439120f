"""Pure parts of the polite HTTP client: reading Retry-After and naming ourselves."""

from __future__ import annotations

from datetime import UTC, datetime

from dailypapers.sources.http import parse_retry_after, user_agent

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_retry_after_in_seconds_is_read_as_seconds() -> None:
    assert parse_retry_after("120", NOW) == 120.0


def test_retry_after_as_an_http_date_is_the_time_until_then() -> None:
    assert parse_retry_after("Sat, 28 Nov 2026 12:00:45 GMT", NOW) == 45.0


def test_retry_after_in_the_past_means_no_wait() -> None:
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", NOW) == 0.0


def test_retry_after_that_is_missing_or_garbage_is_ignored() -> None:
    assert parse_retry_after(None, NOW) is None
    assert parse_retry_after("soon", NOW) is None


def test_the_user_agent_names_dailypapers_and_a_contact() -> None:
    assert user_agent("1.2.3", "me@example.org", "https://papers.example.org") == (
        "dailypapers/1.2.3 (+https://papers.example.org; mailto:me@example.org)"
    )
    assert user_agent("1.2.3", None) == "dailypapers/1.2.3"
