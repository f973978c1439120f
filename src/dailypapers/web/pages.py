"""HTML pages: parse the request, make one catalog call, render (or export the list as BibTeX)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from starlette.concurrency import run_in_threadpool

from dailypapers import catalog
from dailypapers.community.overviews import paper_view
from dailypapers.community.votes import upvoted_among
from dailypapers.domain import Paper
from dailypapers.domain.periods import Period, day_period, parse_day, parse_month, parse_week
from dailypapers.search import search_papers
from dailypapers.search.query import Query as SearchQuery
from dailypapers.search.query import query_from_params
from dailypapers.web.charts import BarChart, day_chart, month_chart, sparkline
from dailypapers.web.deps import (
    State,
    author_url,
    paper_url,
    render_html,
    utc_now,
    with_query,
)
from dailypapers.web.exports import render_bibtex_list, render_markdown
from dailypapers.web.middleware.caching import (
    LIST_MAX_AGE_SECONDS,
    PAPER_MAX_AGE_SECONDS,
    CachedBody,
    cached,
    cached_list_async,
)
from dailypapers.web.viewer import SignedIn, Viewer, account_of, personal

# Lists and papers vary with the viewer: a signed-in viewer gets a fresh, private rendering
# with their votes; everyone else shares the cached one.
_VARY = {"Vary": "Cookie"}

Page = Annotated[int, Query(ge=0, le=catalog.MAX_PAGE)]
Format = Annotated[Literal["html", "bib"], Query(description="bib: the list as BibTeX.")]
# Cards per page of a list; a featured day rarely has more.
PAGE_SIZE = 50
_HTML = "text/html; charset=utf-8"
_BIB = "application/x-bibtex; charset=utf-8"


def _bib_body(papers: Sequence[Paper], name: str) -> CachedBody:
    disposition = {"Content-Disposition": f'inline; filename="{name}.bib"'}
    return CachedBody(render_bibtex_list(papers).encode(), _BIB, disposition)


def _bib(request: Request, papers: Sequence[Paper], name: str) -> Response:
    made = _bib_body(papers, name)
    return cached(request, made.body, _BIB, max_age=LIST_MAX_AGE_SECONDS, headers=made.headers)


def _viewer_context(state: State, viewer: Viewer | None, papers: Sequence[Paper]) -> dict[str, Any]:
    ids = [paper.arxiv_id for paper in papers]
    return {"viewer": viewer, "upvoted": upvoted_among(state.services.db, account_of(viewer), ids)}


async def _list_response(
    request: Request, state: State, viewer: Viewer | None, fmt: str, make: Callable[..., CachedBody]
) -> Response:
    """The shared cached list for signed-out viewers (and BibTeX); a fresh one for the signed-in.

    The list handlers are async so that a cached list is served on the event loop; whatever
    reads the store or renders runs in the thread pool.
    """
    if viewer is None or fmt == "bib":
        return await cached_list_async(request, state.list_cache, make)
    made = await run_in_threadpool(make, viewer)
    return personal(Response(made.body, media_type=made.media_type, headers=made.headers))


def _day_chart(state: State, listing: catalog.FeaturedList) -> BarChart | None:
    """Papers per day, for a week or a month with papers (a day is one bar: no chart)."""
    period = listing.period
    if period is None or period.kind == "day" or not listing.papers:
        return None
    return day_chart(catalog.featured_per_day(state.services.db, period))


async def _featured_page(
    request: Request, state: State, viewer: Viewer | None, period: Period | None, p: int, fmt: str
) -> Response:
    def make(viewer: Viewer | None = None) -> CachedBody:
        listing = catalog.featured_period(state.services.db, period, page=p, page_size=PAGE_SIZE)
        if fmt == "bib":
            return _bib_body(
                listing.papers, f"papers-{listing.period.label if listing.period else 'none'}"
            )
        html = render_html(
            state,
            "featured.html",
            listing=listing,
            day_chart=_day_chart(state, listing),
            requested=period,
            harvest_driven=state.services.harvest.feature_rules.rule != "none",
            nav=listing.period.kind if listing.period else "day",
            feeds=[
                ("Daily papers (RSS)", "/feeds/daily.rss"),
                ("Daily papers (Atom)", "/feeds/daily.atom"),
            ],
            **_viewer_context(state, viewer, listing.papers),
        )
        return CachedBody(html.encode(), _HTML, _VARY)

    return await _list_response(request, state, viewer, fmt, make)


async def home_page(
    request: Request, state: State, viewer: SignedIn, p: Page = 0, format: Format = "html"
) -> Response:
    return await _featured_page(request, state, viewer, None, p, format)


async def papers_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    day: Annotated[str | None, Query(alias="date", max_length=10)] = None,
    p: Page = 0,
    format: Format = "html",
) -> Response:
    period = day_period(parse_day(day)) if day else None
    return await _featured_page(request, state, viewer, period, p, format)


async def day_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    day: str,
    p: Page = 0,
    format: Format = "html",
) -> Response:
    return await _featured_page(request, state, viewer, day_period(parse_day(day)), p, format)


async def week_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    week: str,
    p: Page = 0,
    format: Format = "html",
) -> Response:
    return await _featured_page(request, state, viewer, parse_week(week), p, format)


async def month_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    month: str,
    p: Page = 0,
    format: Format = "html",
) -> Response:
    return await _featured_page(request, state, viewer, parse_month(month), p, format)


def paper_markdown(request: Request, state: State, arxiv_id: str) -> Response:
    """The paper as markdown (what `HfApi.read_paper` and `hf papers read` fetch)."""
    paper = catalog.paper(state.services.db, arxiv_id)
    text = render_markdown(paper, page_url=state.services.site.base_url + paper_url(paper.arxiv_id))
    return cached(request, text, "text/markdown; charset=utf-8", max_age=PAPER_MAX_AGE_SECONDS)


def paper_page(
    request: Request, state: State, viewer: SignedIn, arxiv_id: str, format: Format = "html"
) -> Response:
    # In the thread pool even on SQLite (unlike /api/papers/{id}): the similar-papers panel may
    # open a new index generation or search vectors, which must not hold up the event loop.
    if format == "bib":
        paper = catalog.paper(state.services.db, arxiv_id)
        return _bib(request, [paper], paper.arxiv_id.replace("/", "_"))
    if "text/markdown" in request.headers.get("accept", ""):
        return paper_markdown(request, state, arxiv_id)
    view = paper_view(state.services.db, account_of(viewer), arxiv_id)
    html = render_html(
        state,
        "paper.html",
        paper=view.paper,
        view=view,
        upvote_chart=sparkline(
            catalog.upvote_history(state.services.db, view.paper), now=utc_now()
        ),
        viewer=viewer,
        upvoted={view.paper.arxiv_id} if view.upvoted else frozenset(),
        bibtex=render_bibtex_list([view.paper]),
        page_url=state.services.site.base_url + paper_url(view.paper.arxiv_id),
        similar=catalog.similar(
            state.services.db, state.services.search_index, view.paper.arxiv_id, known=True
        ),
    )
    if viewer is not None:
        return personal(Response(html, media_type=_HTML))
    return cached(request, html, _HTML, max_age=PAPER_MAX_AGE_SECONDS, headers=_VARY)


def author_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    name: str,
    p: Page = 0,
    format: Format = "html",
) -> Response:
    result = catalog.author(state.services.db, name, page=p, page_size=PAGE_SIZE)
    if format == "bib":
        return _bib(request, result.papers, "author")
    feed = "/feeds" + author_url(result.name)
    html = render_html(
        state,
        "author.html",
        result=result,
        month_chart=month_chart(
            catalog.author_papers_per_month(state.services.db, result.name),
            title="Papers per month",
        ),
        feeds=[(f"{result.name} (RSS)", feed + ".rss"), (f"{result.name} (Atom)", feed + ".atom")],
        **_viewer_context(state, viewer, result.papers),
    )
    if viewer is not None:
        return personal(Response(html, media_type=_HTML))
    return cached(request, html, _HTML, max_age=LIST_MAX_AGE_SECONDS, headers=_VARY)


async def trending_page(
    request: Request, state: State, viewer: SignedIn, p: Page = 0, format: Format = "html"
) -> Response:
    services = state.services

    def make(viewer: Viewer | None = None) -> CachedBody:
        result = catalog.trending(
            services.db,
            now=utc_now(),
            half_life_hours=services.trending.half_life_hours,
            window_days=services.trending.window_days,
            page=p,
            page_size=PAGE_SIZE,
        )
        if format == "bib":
            return _bib_body(result.papers, "trending")
        html = render_html(
            state,
            "trending.html",
            result=result,
            half_life_hours=services.trending.half_life_hours,
            window_days=services.trending.window_days,
            nav="trending",
            feeds=[
                ("Trending (RSS)", "/feeds/trending.rss"),
                ("Trending (Atom)", "/feeds/trending.atom"),
            ],
            **_viewer_context(state, viewer, result.papers),
        )
        return CachedBody(html.encode(), _HTML, _VARY)

    return await _list_response(request, state, viewer, format, make)


def mode_note(query: SearchQuery, ran: str) -> str | None:
    """Why the search ran in another mode than the menu asked for; None when it did not."""
    if ran == query.mode:
        return None
    if query.sort != "relevance":
        order = "newest first" if query.sort == "date" else "by upvotes"
        return f"sorted {order}, so matched by keyword"
    if query.is_browse:
        return "no words to match, so the newest papers that pass the filters"
    if not query.semantic_text:
        return "ti:, au:, abs:, cat: and id: match by field, which keyword search does"
    return "semantic search is not set up on this hub yet (no paper vectors), so keyword only"


# A query this long reads as a description of a need rather than as keywords.
DESCRIPTION_WORDS = 12


def reading_note(query: SearchQuery, ran: str, words_read: int) -> str | None:
    """How a long query was read, so a user knows a pasted paragraph works; None for short ones."""
    if len(query.text.split()) < DESCRIPTION_WORDS:
        return None
    if ran == "hybrid":
        return f"Read as a description: searched by meaning and by {words_read} of its words."
    if ran == "semantic":
        return "Read as a description: searched by meaning."
    if query.mode == "keyword":
        return "Keyword search wants every word in one paper; Hybrid reads a paragraph by meaning."
    return None


def search_page(
    request: Request,
    state: State,
    viewer: SignedIn,
    format: Format = "html",
) -> Response:
    """The search page: q, from, to, cat, min_upvotes, sort and page live in the URL."""
    params = {k: v for k, v in request.query_params.items() if k != "format"}
    query = query_from_params({**params, "limit": str(PAGE_SIZE)})
    searched = bool(query.text or query.date_from or query.date_to or query.categories)
    result = (
        search_papers(state.services.db, state.services.search_index, query, with_months=True)
        if searched
        else None
    )
    papers = [hit.paper for hit in result.hits] if result else []
    if format == "bib":
        return _bib(request, papers, "search")
    filters = {k: v for k, v in query.to_params().items() if k not in ("page", "limit")}
    html = render_html(
        state,
        "search.html",
        result=result,
        query=query,
        search_words=query.text,
        filters=filters,
        chart=month_chart(result.months) if result else None,
        mode_note=mode_note(query, result.mode) if result else None,
        reading=reading_note(query, result.mode, result.words_read) if result else None,
        feeds=[
            ("This search (RSS)", with_query("/feeds/search.rss", **filters)),
            ("This search (Atom)", with_query("/feeds/search.atom", **filters)),
        ]
        if result
        else [],
        **_viewer_context(state, viewer, papers),
    )
    if viewer is not None:
        return personal(Response(html, media_type=_HTML))
    return cached(request, html, _HTML, max_age=LIST_MAX_AGE_SECONDS, headers=_VARY)
