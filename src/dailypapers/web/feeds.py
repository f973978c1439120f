"""RSS 2.0 and Atom feeds of the daily list, trending, an author and a search, with validators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response

from dailypapers import catalog
from dailypapers.domain import Paper
from dailypapers.errors import InvalidRequest
from dailypapers.search import search_papers
from dailypapers.search.query import query_from_params
from dailypapers.web.api_models import TEXT_ERROR_RESPONSES
from dailypapers.web.deps import State, author_url, utc_now, with_query
from dailypapers.web.middleware.caching import FEED_MAX_AGE_SECONDS, cached
from dailypapers.web.syndication import FeedInfo, feed_updated, render_atom, render_rss

Kind = Literal["rss", "atom"]
# Items per feed: a reader polling daily sees several days of papers.
FEED_SIZE = 50
_MEDIA = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
}
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/rss+xml": {}, "application/atom+xml": {}},
        "description": "A feed",
    },
    **TEXT_ERROR_RESPONSES,
}


def _feed(
    request: Request,
    state: State,
    kind: Kind,
    papers: Sequence[Paper],
    *,
    title: str,
    description: str,
    page_path: str,
    feed_path: str,
) -> Response:
    base = state.services.site.base_url
    site = state.services.site.name
    info = FeedInfo(
        title=f"{title} · {site}",
        description=description,
        page_url=base + page_path,
        self_url=base + feed_path,
        # The page the feed mirrors names it: the same identity for its RSS and Atom forms.
        feed_id=base + page_path,
    )
    render = render_rss if kind == "rss" else render_atom
    body = render(info, papers, base_url=base)
    return cached(
        request,
        body,
        _MEDIA[kind],
        max_age=FEED_MAX_AGE_SECONDS,
        last_modified=feed_updated(papers) if papers else None,
    )


def daily_feed(request: Request, state: State, kind: Kind) -> Response:
    """The newest featured papers."""
    services = state.services
    papers = catalog.list_daily(
        services.db,
        None,
        limit=FEED_SIZE,
        now=utc_now(),
        half_life_hours=services.trending.half_life_hours,
        window_days=services.trending.window_days,
    )
    return _feed(
        request,
        state,
        kind,
        papers,
        title="Daily papers",
        description="Papers featured by the community, newest first.",
        page_path="/",
        feed_path=f"/feeds/daily.{kind}",
    )


def trending_feed(request: Request, state: State, kind: Kind) -> Response:
    """Recent papers ranked by time-decayed upvotes."""
    services = state.services
    result = catalog.trending(
        services.db,
        now=utc_now(),
        half_life_hours=services.trending.half_life_hours,
        window_days=services.trending.window_days,
        page_size=FEED_SIZE,
    )
    return _feed(
        request,
        state,
        kind,
        result.papers,
        title="Trending papers",
        description="Recent papers ranked by upvotes with time decay.",
        page_path="/trending",
        feed_path=f"/feeds/trending.{kind}",
    )


def author_feed(request: Request, state: State, name: str, kind: Kind) -> Response:
    """An author's papers, newest first."""
    result = catalog.author(state.services.db, name, page_size=FEED_SIZE)
    return _feed(
        request,
        state,
        kind,
        result.papers,
        title=result.name,
        description=f"Papers by {result.name}, newest first.",
        page_path=author_url(result.name),
        feed_path=f"/feeds{author_url(result.name)}.{kind}",
    )


def search_feed(
    request: Request,
    state: State,
    kind: Kind,
    q: Annotated[str, Query(max_length=catalog.MAX_QUERY_CHARS)] = "",
) -> Response:
    """Papers matching a search (the search page's parameters: q, from, to, cat, min_upvotes,
    sort), most relevant first."""
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "limit")}
    query = query_from_params({**params, "limit": str(FEED_SIZE)})
    if not (query.text or query.date_from or query.date_to or query.categories):
        raise InvalidRequest("a search feed needs words (q) or a filter (from, to, cat)")
    result = search_papers(state.services.db, state.services.search_index, query)
    filters = query.to_params()
    filters.pop("limit", None)
    return _feed(
        request,
        state,
        kind,
        [hit.paper for hit in result.hits],
        title=f"Search: {query.text[:80] or 'filtered'}",
        description=f"Papers matching {query.text[:200]!r}.",
        page_path=with_query("/search", **filters),
        feed_path=with_query(f"/feeds/search.{kind}", **filters),
    )
