"""The JSON API, compatible with Hugging Face's papers API: parse, one catalog call, serialise."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from dailypapers import catalog
from dailypapers.domain.periods import parse_period
from dailypapers.search import search_papers
from dailypapers.search.query import DEFAULT_MODE, MAX_OFFSET, Mode, parse_query
from dailypapers.web.api_models import (
    DAY_PATTERN,
    MONTH_PATTERN,
    WEEK_PATTERN,
)
from dailypapers.web.deps import State, utc_now, with_query
from dailypapers.web.hf_json import arxiv_repos, daily_entry, paper_object
from dailypapers.web.middleware.caching import (
    LIST_MAX_AGE_SECONDS,
    PAPER_MAX_AGE_SECONDS,
    CachedBody,
    cached,
    cached_list_async,
    point_read,
)

Page = Annotated[int, Query(ge=0, le=catalog.MAX_PAGE, description="Page number, 0-based.")]


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def api_daily_papers(
    request: Request,
    state: State,
    day: Annotated[
        str | None,
        Query(alias="date", pattern=DAY_PATTERN, description="Featured day, YYYY-MM-DD."),
    ] = None,
    week: Annotated[
        str | None, Query(pattern=WEEK_PATTERN, description="ISO week, YYYY-Www.")
    ] = None,
    month: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="Month, YYYY-MM.")
    ] = None,
    submitter: Annotated[
        str | None, Query(max_length=100, description="Submitter's username.")
    ] = None,
    sort: Annotated[
        Literal["publishedAt", "trending"],
        Query(description="publishedAt: newest featured first; trending: decayed upvotes."),
    ] = "publishedAt",
    p: Page = 0,
    limit: Annotated[int, Query(ge=1, le=catalog.MAX_PAGE_SIZE)] = 50,
) -> Response:
    """A featured day, week or month (or all of them), like huggingface.co/api/daily_papers.

    Within a period, papers come most upvoted first; without one, newest featured first.
    A page past the end is an empty array.
    """
    services = state.services
    period = parse_period(day=day, week=week, month=month)

    def make() -> CachedBody:
        papers = catalog.list_daily(
            services.db,
            period,
            submitter=submitter,
            sort=sort,
            page=p,
            limit=limit,
            now=utc_now(),
            half_life_hours=services.trending.half_life_hours,
            window_days=services.trending.window_days,
        )
        headers = {}
        if len(papers) == limit:
            params = dict(request.query_params) | {"p": str(p + 1)}
            next_url = services.site.base_url + with_query(request.url.path, **params)
            headers["Link"] = f'<{next_url}>; rel="next"'
        body = _json([daily_entry(paper, services.site.base_url) for paper in papers])
        return CachedBody(body.encode(), "application/json", headers)

    # async: a cached page is served on the event loop; a miss is made in the thread pool.
    return await cached_list_async(request, state.list_cache, make)


def api_search(
    request: Request,
    state: State,
    q: Annotated[
        str,
        Query(max_length=catalog.MAX_QUERY_CHARS, description="Words; a pasted abstract works."),
    ] = "",
    limit: Annotated[int, Query(ge=1, le=catalog.MAX_SEARCH_LIMIT)] = 50,
    p: Page = 0,
    mode: Annotated[
        Mode,
        Query(
            description="hybrid (words and meaning, the default), keyword or semantic; the "
            "mode that ran is in the X-Search-Mode header (keyword where meaning cannot apply)."
        ),
    ] = DEFAULT_MODE,
) -> Response:
    """Papers matching `q`, most relevant first, in the daily-entry shape.

    Beyond Hugging Face's fields, each entry has `score` (the ranking score) and `snippet` (the
    best-matching passage of the abstract, HTML-escaped, matches wrapped in <mark>).
    Results stop after the first 10,000: a page past them is an empty array.
    """
    if p * limit > MAX_OFFSET:
        return cached(request, "[]", "application/json", max_age=LIST_MAX_AGE_SECONDS)
    query = parse_query(q, page=p + 1, limit=limit, mode=mode)
    result = search_papers(state.services.db, state.services.search_index, query)
    entries = [
        {
            **daily_entry(hit.paper, state.services.site.base_url),
            "score": round(hit.score, 4),
            "snippet": hit.abstract.to_html(),
        }
        for hit in result.hits
    ]
    return cached(
        request,
        _json(entries),
        "application/json",
        max_age=LIST_MAX_AGE_SECONDS,
        headers={"X-Search-Mode": result.mode},
    )


def api_similar(
    request: Request,
    state: State,
    arxiv_id: str,
    limit: Annotated[int, Query(ge=1, le=catalog.MAX_SEARCH_LIMIT)] = 10,
) -> Response:
    """The papers nearest to this one by meaning (its vector's nearest neighbours), itself left
    out, each with `similarity` (cosine); empty while the paper has no vector yet."""
    found = catalog.similar(state.services.db, state.services.search_index, arxiv_id, limit=limit)
    entries = [
        {
            **daily_entry(near.paper, state.services.site.base_url),
            "similarity": round(near.similarity, 4),
        }
        for near in found
    ]
    return cached(request, _json(entries), "application/json", max_age=PAPER_MAX_AGE_SECONDS)


async def api_paper(request: Request, state: State, arxiv_id: str) -> Response:
    """A paper by arXiv id, with or without `vN`; 404 when this hub does not have it."""

    def make() -> Response:
        paper = catalog.paper(state.services.db, arxiv_id)
        body = _json(paper_object(paper, state.services.site.base_url))
        return cached(request, body, "application/json", max_age=PAPER_MAX_AGE_SECONDS)

    return await point_read(state.services.db, make)


async def api_arxiv_repos(request: Request, state: State, arxiv_id: str) -> Response:
    """What cites the paper, like huggingface.co/api/arxiv/{id}/repos: no models, datasets or
    Spaces (this hub hosts none), and the paper's code repository and project page where known.
    404 when this hub does not have the paper."""

    def make() -> Response:
        paper = catalog.paper(state.services.db, arxiv_id)
        body = _json(arxiv_repos(paper))
        return cached(request, body, "application/json", max_age=PAPER_MAX_AGE_SECONDS)

    return await point_read(state.services.db, make)


def healthz(state: State) -> Response:
    """200 when the store answers a query; the newest featured day says how fresh it is."""
    fresh = catalog.freshness(state.services.db)
    day = fresh.latest_featured_day.isoformat() if fresh.latest_featured_day else None
    body = _json({"status": "ok", "latest_featured_day": day})
    return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})
