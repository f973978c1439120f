"""Read use cases behind the site, the API and the feeds: featured periods, a paper, an author,
and trending. Pages and API render the same results; no HTTP here. Searching goes through search/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from dailypapers.catalog.trending import TrendingCandidate, rank_trending, trending_now
from dailypapers.domain import Paper, author_key, split_arxiv_id
from dailypapers.domain.calendar import quiet_reason
from dailypapers.domain.periods import Period, day_period
from dailypapers.errors import InvalidRequest, NotFound
from dailypapers.search.index import SearchIndex
from dailypapers.search.results import SimilarPaper
from dailypapers.search.service import similar_papers
from dailypapers.store import Database
from dailypapers.store.authors import count_author_papers, find_author_names, list_author_papers
from dailypapers.store.featured_lists import (
    FeaturedOrder,
    count_featured,
    featured_day_after,
    featured_day_before,
    list_featured,
    list_papers_by_ids,
    newest_activity_at,
    trending_inputs,
)
from dailypapers.store.ingest_runs import last_ingest_at
from dailypapers.store.listings import get_paper, latest_featured_day

DailySort = Literal["publishedAt", "trending"]
# Bounds shared by every surface (the API mirrors Hugging Face's: limit 1..100, search 1..120).
MAX_PAGE_SIZE = 100
MAX_SEARCH_LIMIT = 120
MAX_QUERY_CHARS = 2_000
# Pages past this are refused: OFFSET scans grow with the page number.
MAX_PAGE = 10_000
_ALL_DAYS = (date(1991, 1, 1), date(9999, 12, 30))


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the store knows about its own age, so an empty page can say why it is empty."""

    latest_featured_day: date | None
    last_ingest_at: datetime | None
    # For a day: why arXiv dated no listing on it (the evening before was a Friday, Saturday or
    # holiday), shown when lists are harvest-driven. Community days can fall on any day.
    arxiv_quiet: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 0-based
    size: int
    total: int

    @property
    def has_previous(self) -> bool:
        return self.number > 0

    @property
    def has_next(self) -> bool:
        return (self.number + 1) * self.size < self.total

    @property
    def offset(self) -> int:
        return self.number * self.size


@dataclass(frozen=True, slots=True)
class FeaturedList:
    """One featured period (or nothing at all yet), with the nearest non-empty neighbours."""

    period: Period | None
    papers: list[Paper]
    page: Page
    previous: Period | None
    next: Period | None
    freshness: Freshness | None  # only when the list is empty: what explains it


@dataclass(frozen=True, slots=True)
class AuthorPapers:
    name: str
    papers: list[Paper]
    page: Page


@dataclass(frozen=True, slots=True)
class RankedPapers:
    """Trending or search results: papers with their scores, best first."""

    papers: list[Paper]
    scores: list[float]
    page: Page
    as_of: datetime | None = None


def check_page(number: int, size: int, *, max_size: int = MAX_PAGE_SIZE) -> None:
    if not 0 <= number <= MAX_PAGE:
        raise InvalidRequest(f"page must be between 0 and {MAX_PAGE}")
    if not 1 <= size <= max_size:
        raise InvalidRequest(f"limit must be between 1 and {max_size}")


def freshness(db: Database, period: Period | None = None) -> Freshness:
    with db.read() as conn:
        latest = latest_featured_day(conn)
    quiet = None
    if period is not None and period.kind == "day":
        quiet = quiet_reason(period.start - timedelta(days=1))
    return Freshness(
        latest_featured_day=latest, last_ingest_at=last_ingest_at(db), arxiv_quiet=quiet
    )


def featured_period(
    db: Database, period: Period | None, *, page: int = 0, page_size: int = 50
) -> FeaturedList:
    """A featured day, week or month by upvotes; None means the latest non-empty day."""
    check_page(page, page_size)
    with db.read() as conn:
        if period is None:
            latest = latest_featured_day(conn)
            period = day_period(latest) if latest else None
        if period is None:
            return FeaturedList(None, [], Page(0, page_size, 0), None, None, freshness(db))
        total = count_featured(conn, period.start, period.end)
        papers = list_featured(
            conn, period.start, period.end, limit=page_size, offset=page * page_size
        )
        before = featured_day_before(conn, period.start)
        after = featured_day_after(conn, period.end)
    return FeaturedList(
        period=period,
        papers=papers,
        page=Page(page, page_size, total),
        previous=period.containing(before) if before else None,
        next=period.containing(after) if after else None,
        freshness=freshness(db, period) if not papers else None,
    )


def list_daily(
    db: Database,
    period: Period | None,
    *,
    submitter: str | None = None,
    sort: DailySort = "publishedAt",
    page: int = 0,
    limit: int = 50,
    now: datetime,
    half_life_hours: float,
    window_days: int,
) -> list[Paper]:
    """The API's daily list: a period (or all days), newest featured first, or by trending."""
    check_page(page, limit)
    start, end = (period.start, period.end) if period else _ALL_DAYS
    if sort == "trending":
        ranked = _rank(db, start, end, period is None, submitter, now, half_life_hours, window_days)
        ids = [arxiv_id for arxiv_id, _ in ranked[page * limit : (page + 1) * limit]]
        with db.read() as conn:
            return list_papers_by_ids(conn, ids)
    order: FeaturedOrder = "newest" if period is None else "upvotes"
    with db.read() as conn:
        return list_featured(
            conn, start, end, submitter=submitter, order=order, limit=limit, offset=page * limit
        )


def trending(
    db: Database,
    *,
    now: datetime,
    half_life_hours: float,
    window_days: int,
    page: int = 0,
    page_size: int = 50,
) -> RankedPapers:
    """Recently featured or voted papers by time-decayed votes (ranking.trending_score)."""
    check_page(page, page_size)
    ranked = _rank(db, *_ALL_DAYS, True, None, now, half_life_hours, window_days)
    chosen = ranked[page * page_size : (page + 1) * page_size]
    with db.read() as conn:
        papers = list_papers_by_ids(conn, [arxiv_id for arxiv_id, _ in chosen])
        as_of = trending_now(newest_activity_at(conn), now=now, window_days=window_days)
    scores = dict(chosen)
    return RankedPapers(
        papers=papers,
        scores=[scores[p.arxiv_id] for p in papers],
        page=Page(page, page_size, len(ranked)),
        as_of=as_of,
    )


def _rank(
    db: Database,
    start: date,
    end: date,
    windowed: bool,
    submitter: str | None,
    now: datetime,
    half_life_hours: float,
    window_days: int,
) -> list[tuple[str, float]]:
    with db.read() as conn:
        effective_now = trending_now(newest_activity_at(conn), now=now, window_days=window_days)
        since = effective_now - timedelta(days=window_days)
        if windowed:
            start = max(start, since.date())
            end = min(end, effective_now.date())
        inputs = trending_inputs(
            conn, start, end, submitter=submitter, votes_since=since if windowed else None
        )
    candidates = [
        TrendingCandidate(arxiv_id, vote_times=times, baseline=baseline, featured_on=day)
        for arxiv_id, day, baseline, times in inputs
    ]
    return rank_trending(candidates, now=effective_now, half_life_hours=half_life_hours)


def paper(db: Database, raw_id: str) -> Paper:
    """A paper by arXiv id (with or without vN, old- or new-style); raises NotFound."""
    try:
        arxiv_id, _ = split_arxiv_id(raw_id)
    except ValueError as exc:
        # 404, not 400: a paper that cannot exist is unknown, and HF clients expect a 404 here.
        raise NotFound(f"{raw_id[:80]!r} is not an arXiv identifier") from exc
    with db.read() as conn:
        return get_paper(conn, arxiv_id)


def author(db: Database, name: str, *, page: int = 0, page_size: int = 50) -> AuthorPapers:
    """An author's papers, newest first; the name matches whatever its case and accents."""
    check_page(page, page_size)
    key = author_key(name)
    if not key or len(key) > 300:
        raise InvalidRequest("an author name must have 1 to 300 characters")
    with db.read() as conn:
        names = find_author_names(conn, key)
        if not names:
            raise NotFound(f"no author named {name[:80]!r} in this hub")
        total = count_author_papers(conn, key)
        papers = list_author_papers(conn, key, limit=page_size, offset=page * page_size)
    return AuthorPapers(name=names[0], papers=papers, page=Page(page, page_size, total))


def similar(
    db: Database, index: SearchIndex, arxiv_id: str, *, limit: int = 8, known: bool = False
) -> tuple[SimilarPaper, ...]:
    """The papers nearest to this one by meaning (id with or without vN); raises NotFound.

    `known`: the caller has just read this paper by its exact id, so skip looking it up again.
    """
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise InvalidRequest(f"limit must be between 1 and {MAX_SEARCH_LIMIT}")
    if known:
        return similar_papers(db, index, arxiv_id, limit=limit, check_exists=False)
    return similar_papers(db, index, paper(db, arxiv_id).arxiv_id, limit=limit)
