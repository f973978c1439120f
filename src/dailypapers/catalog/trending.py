"""Trending: pure functions of vote times, imported baseline, featured day, `now` and a half-life.

No I/O and no clock: callers pass `now`. The formula is the one in DESIGN.md (decision 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dailypapers.domain import baseline_cast_at

_SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TrendingCandidate:
    """What trending needs to know about one paper: its local votes and its imported baseline."""

    arxiv_id: str
    vote_times: tuple[datetime, ...] = ()
    baseline: int = 0
    featured_on: date | None = None


def vote_weight(cast_at: datetime, *, now: datetime, half_life_hours: float) -> float:
    """0.5 ** (age / half-life); a vote from the future (clock skew) counts as brand new."""
    if half_life_hours <= 0:
        raise ValueError("half_life_hours must be positive")
    age_hours = max(0.0, (now - cast_at).total_seconds() / _SECONDS_PER_HOUR)
    return float(0.5 ** (age_hours / half_life_hours))


def trending_score(
    vote_times: Iterable[datetime],
    *,
    baseline: int,
    featured_on: date | None,
    now: datetime,
    half_life_hours: float,
) -> float:
    """Σ over votes of 0.5 ** (age_of_vote / half_life), baseline votes cast on the featured day.

    A baseline without a featured day (which the store never holds) counts as cast at `now`.
    """
    score = sum(vote_weight(t, now=now, half_life_hours=half_life_hours) for t in vote_times)
    if baseline > 0:
        cast_at = baseline_cast_at(featured_on) if featured_on is not None else now
        score += baseline * vote_weight(cast_at, now=now, half_life_hours=half_life_hours)
    return score


def rank_trending(
    candidates: Iterable[TrendingCandidate], *, now: datetime, half_life_hours: float
) -> list[tuple[str, float]]:
    """(arxiv_id, score) pairs, highest score first; ties go to the newer id."""
    scored = [
        (
            c.arxiv_id,
            trending_score(
                c.vote_times,
                baseline=c.baseline,
                featured_on=c.featured_on,
                now=now,
                half_life_hours=half_life_hours,
            ),
        )
        for c in candidates
    ]
    scored.sort(key=lambda pair: pair[0], reverse=True)
    scored.sort(key=lambda pair: pair[1], reverse=True)
    return scored


def trending_now(
    newest_activity_at: datetime | None, *, now: datetime, window_days: int
) -> datetime:
    """The `now` trending uses: the real now, or the newest activity when that is out of window.

    A store whose newest vote or featured day is older than the window (a stale demo, a paused
    harvest) would otherwise show an empty trending page.
    """
    if newest_activity_at is None:
        return now
    if newest_activity_at < now - timedelta(days=window_days):
        return newest_activity_at
    return now
