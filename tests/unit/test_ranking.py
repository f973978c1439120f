"""Trending is a pure function of vote times, baseline, featured day, now and the half-life."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dailypapers.catalog.trending import (
    TrendingCandidate,
    baseline_cast_at,
    rank_trending,
    trending_now,
    trending_score,
    vote_weight,
)

NOW = datetime(2026, 8, 21, 12, 0, tzinfo=UTC)
HALF_LIFE = 48.0


def test_a_fresh_vote_counts_one() -> None:
    assert vote_weight(NOW, now=NOW, half_life_hours=HALF_LIFE) == 1.0


def test_trending_decays_votes_by_half_life() -> None:
    one = vote_weight(NOW - timedelta(hours=48), now=NOW, half_life_hours=HALF_LIFE)
    two = vote_weight(NOW - timedelta(hours=96), now=NOW, half_life_hours=HALF_LIFE)
    assert one == pytest.approx(0.5)
    assert two == pytest.approx(0.25)


def test_a_vote_from_the_future_counts_as_new() -> None:
    assert vote_weight(NOW + timedelta(hours=5), now=NOW, half_life_hours=HALF_LIFE) == 1.0


def test_the_half_life_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        vote_weight(NOW, now=NOW, half_life_hours=0)


def test_the_score_sums_decayed_votes() -> None:
    votes = [NOW, NOW - timedelta(hours=48), NOW - timedelta(hours=96)]
    score = trending_score(votes, baseline=0, featured_on=None, now=NOW, half_life_hours=HALF_LIFE)
    assert score == pytest.approx(1.75)


def test_baseline_votes_count_as_cast_at_midnight_of_the_featured_day() -> None:
    assert baseline_cast_at(date(2026, 8, 19)) == datetime(2026, 8, 19, tzinfo=UTC)
    # Featured 2026-08-19 00:00 is 60 hours before NOW: 10 votes weigh 10 * 0.5 ** 1.25.
    score = trending_score(
        [], baseline=10, featured_on=date(2026, 8, 19), now=NOW, half_life_hours=HALF_LIFE
    )
    assert score == pytest.approx(10 * 0.5**1.25)


def test_local_votes_and_baseline_add_up() -> None:
    score = trending_score(
        [NOW], baseline=4, featured_on=date(2026, 8, 21), now=NOW, half_life_hours=HALF_LIFE
    )
    assert score == pytest.approx(1 + 4 * 0.5 ** (12 / 48))


def test_a_newer_paper_with_fewer_votes_can_outrank_an_older_one() -> None:
    ranked = rank_trending(
        [
            TrendingCandidate("2608.00001", baseline=60, featured_on=date(2026, 8, 14)),
            TrendingCandidate("2608.00002", baseline=15, featured_on=date(2026, 8, 21)),
            TrendingCandidate("2608.00003", vote_times=(NOW,) * 3),
        ],
        now=NOW,
        half_life_hours=HALF_LIFE,
    )
    assert [arxiv_id for arxiv_id, _ in ranked] == ["2608.00002", "2608.00001", "2608.00003"]
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)


def test_ties_go_to_the_newer_id() -> None:
    ranked = rank_trending(
        [TrendingCandidate("2608.00001", (NOW,)), TrendingCandidate("2608.00009", (NOW,))],
        now=NOW,
        half_life_hours=HALF_LIFE,
    )
    assert [arxiv_id for arxiv_id, _ in ranked] == ["2608.00009", "2608.00001"]


def test_a_longer_half_life_favours_older_votes() -> None:
    old = TrendingCandidate("old", baseline=30, featured_on=date(2026, 8, 14))
    new = TrendingCandidate("new", baseline=10, featured_on=date(2026, 8, 21))
    short = rank_trending([old, new], now=NOW, half_life_hours=24)
    long = rank_trending([old, new], now=NOW, half_life_hours=24 * 14)
    assert short[0][0] == "new"
    assert long[0][0] == "old"


def test_trending_uses_real_now_while_activity_is_recent() -> None:
    recent = NOW - timedelta(days=2)
    assert trending_now(recent, now=NOW, window_days=7) == NOW
    assert trending_now(None, now=NOW, window_days=7) == NOW


def test_a_stale_store_trends_as_of_its_newest_activity() -> None:
    today = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    newest = datetime(2026, 8, 21, tzinfo=UTC)
    assert trending_now(newest, now=today, window_days=7) == newest
