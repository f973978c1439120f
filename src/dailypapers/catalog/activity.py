"""Counts over time behind the site's charts: a paper's upvotes, papers per featured day, an
author's papers per month. Plain values for web/charts.py to draw; no drawing and no HTTP here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dailypapers.domain import Paper, author_key
from dailypapers.domain.periods import Period
from dailypapers.search.results import MonthCount
from dailypapers.store import Database
from dailypapers.store.authors import count_author_papers_per_month
from dailypapers.store.featured_lists import count_featured_per_day
from dailypapers.store.votes import list_vote_times


@dataclass(frozen=True, slots=True)
class UpvoteHistory:
    """A paper's upvote count over time: the imported baseline, then this hub's votes.

    Papers imported from Hugging Face arrive with an upvote count and no dates. The history
    treats that baseline as already there when the line starts (`starts_at`): the paper's
    featured day at midnight UTC, which is when Hugging Face votes mostly come in. A paper that
    was never featured has no baseline, and its line starts at its first local vote. Local votes
    then add one each at their `created_at`; a vote cast before the featured day (a submitted
    paper voted on early) moves the start back to that vote.
    """

    arxiv_id: str
    baseline: int
    vote_times: tuple[datetime, ...]  # oldest first, UTC
    starts_at: datetime | None  # None when the paper has no local votes: nothing to draw

    @property
    def total(self) -> int:
        return self.baseline + len(self.vote_times)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    count: int


def upvote_history(db: Database, paper: Paper) -> UpvoteHistory:
    """The history behind `paper`'s shown count (its baseline plus its local votes)."""
    with db.read() as conn:
        times = tuple(list_vote_times(conn, paper.arxiv_id))
    featured = paper.featured
    baseline = featured.upvotes_baseline if featured else 0
    starts_at: datetime | None = None
    if times:
        starts_at = times[0]
        if featured is not None:
            starts_at = min(starts_at, datetime.combine(featured.featured_on, time(), UTC))
    return UpvoteHistory(paper.arxiv_id, baseline, times, starts_at)


def featured_per_day(db: Database, period: Period) -> tuple[DayCount, ...]:
    """Visible featured papers on each day of `period`, empty days included, oldest first."""
    with db.read() as conn:
        counts = dict(count_featured_per_day(conn, period.start, period.end))
    days = (period.end - period.start).days + 1
    return tuple(
        DayCount(day, counts.get(day, 0))
        for day in (period.start + timedelta(days=n) for n in range(days))
    )


def author_papers_per_month(db: Database, name: str) -> tuple[MonthCount, ...]:
    """The author's visible papers per month of publication (months with none left out)."""
    with db.read() as conn:
        rows = count_author_papers_per_month(conn, author_key(name))
    return tuple(MonthCount(month, count) for month, count in rows)
