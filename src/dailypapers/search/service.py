"""Searching papers: the one call the search page, the API, feeds, saved searches and digests make.

The keyword index ranks, fused with the vectors' nearest papers in hybrid mode (the default) or
replaced by them in semantic mode (search/vector_search.py); the store supplies what the index
cannot know: live upvote counts (votes do not bump change_seq) and the papers themselves.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from dailypapers.errors import NotFound
from dailypapers.search.catchup import repair
from dailypapers.search.index import IndexUnavailable, OpenGeneration, SearchIndex
from dailypapers.search.keyword import KeywordSearcher
from dailypapers.search.keyword.schema import ResultOrder
from dailypapers.search.paper_vectors import vector_from_bytes
from dailypapers.search.query import Mode, Query
from dailypapers.search.results import MonthCount, SearchHit, SearchResult, SimilarPaper
from dailypapers.search.vector_search import VectorPage, similar_to, vector_search
from dailypapers.store import Database
from dailypapers.store.changes import (
    find_live_upvotes,
    find_papers,
    list_live_upvotes,
    list_upvoted_ids,
)
from dailypapers.store.vectors import find_paper_vector

# Queries that can match at most this many papers (by their terms' document frequencies) get
# their live upvote counts by id; broader ones read the store's upvoted set instead. Each
# candidate costs a stored-document read in the index; counting the matches first would cost a
# full run of a broad query.
CANDIDATE_JOIN_LIMIT = 500


def search_papers(
    db: Database, index: SearchIndex, query: Query, *, with_months: bool = False
) -> SearchResult:
    """One page of results for `query`, with the total and, if asked, matches per month.

    Filters (dates, categories, minimum upvotes) narrow the candidates inside the index before
    ranking. A missing or damaged index is rebuilt from the store first (under the writer's lock).
    The index's `on_search` observer, if any, hears (mode asked, seconds) of every call.
    """
    started = time.perf_counter()
    try:
        return _search_papers(db, index, query, with_months, started)
    finally:
        if index.on_search is not None:
            index.on_search(query.mode, time.perf_counter() - started)


def _search_papers(
    db: Database, index: SearchIndex, query: Query, with_months: bool, started: float
) -> SearchResult:
    opened = open_for_search(db, index)
    keyword = opened.keyword
    only_ids: Collection[str] | None = None
    similarities: dict[str, float] = {}
    mode: Mode = "keyword"
    words_read = 0
    months: tuple[MonthCount, ...] = ()
    with_vectors = _with_vectors(db, index, opened, query, with_months)
    if with_vectors is not None:
        page, total, months, similarities = (
            with_vectors.page,
            with_vectors.total,
            with_vectors.months,
            with_vectors.similarities,
        )
        mode, with_months = query.mode, False
        words_read = with_vectors.words
    elif query.min_upvotes or query.sort == "upvotes":
        page, total, only_ids = _with_live_upvotes(db, keyword, query)
    else:
        found = keyword.search(
            query,
            order="date" if query.sort == "date" else "relevance",
            limit=query.limit,
            offset=query.offset,
        )
        page, total = found.hits, found.total
    if with_months:
        months = keyword.months(query, only_ids=only_ids)
    with db.read() as conn:
        papers = find_papers(conn, [arxiv_id for arxiv_id, _ in page])
    shown = [(papers[i], score) for i, score in page if i in papers]
    snippets = keyword.snippets_for(query, [(p.title, p.abstract) for p, _ in shown])
    hits = tuple(
        SearchHit(paper, score, title, abstract, similarities.get(paper.arxiv_id))
        for (paper, score), (title, abstract) in zip(shown, snippets, strict=True)
    )
    return SearchResult(
        query=query,
        hits=hits,
        total=total,
        months=months,
        elapsed_ms=(time.perf_counter() - started) * 1_000,
        generation=opened.generation,
        mode=mode,
        words_read=words_read,
    )


def _with_vectors(
    db: Database, index: SearchIndex, opened: OpenGeneration, query: Query, with_months: bool
) -> VectorPage | None:
    """The semantic or hybrid page, or None where keyword search answers instead."""
    config = index.semantic
    if (
        config is None
        or opened.vectors is None
        or query.mode == "keyword"
        or query.sort != "relevance"
        or query.is_browse
    ):
        return None
    embedder = config.query_embedder()
    if embedder is None:
        return None
    only_ids: Collection[str] | None = None
    if query.min_upvotes:  # which papers reach it is enough: hybrid ranks by relevance
        with db.read() as conn:
            only_ids = list_upvoted_ids(conn, at_least=query.min_upvotes)
    return vector_search(
        opened, config, embedder, query, only_ids=only_ids, with_months=with_months
    )


def similar_papers(
    db: Database,
    index: SearchIndex,
    arxiv_id: str,
    *,
    limit: int = 10,
    check_exists: bool = True,
) -> tuple[SimilarPaper, ...]:
    """The papers nearest to this one by their vectors, itself left out; empty when it has no
    vector yet. Raises NotFound for a paper not in the store (or hidden), unless the caller has
    just read it and passes check_exists=False."""
    if check_exists:
        with db.read() as conn:
            if arxiv_id not in find_papers(conn, [arxiv_id]):
                raise NotFound(f"no paper {arxiv_id[:40]!r} in this hub")
    opened = open_for_search(db, index)
    if opened.vectors is None or opened.meta.vector_model is None:
        return ()
    key = (str(index.directory), opened.generation, arxiv_id, limit)
    with _nearest_lock:
        nearest = _nearest_cache.get(key)
    if nearest is None:
        nearest = _nearest(db, index, opened, arxiv_id, limit)
        with _nearest_lock:
            _nearest_cache[key] = nearest
            while len(_nearest_cache) > NEAREST_CACHE_SIZE:
                _nearest_cache.popitem(last=False)
    if not nearest:
        return ()
    with db.read() as conn:
        papers = find_papers(conn, [i for i, _ in nearest])
    return tuple(SimilarPaper(papers[i], c) for i, c in nearest if i in papers)


# Nearest neighbours per (index, generation, paper, limit). A generation never changes once
# published, so this per-process cache is never stale; it spares each paper page a vector search.
NEAREST_CACHE_SIZE = 4_096
_nearest_cache: OrderedDict[tuple[str, int, str, int], tuple[tuple[str, float], ...]] = (
    OrderedDict()
)
_nearest_lock = threading.Lock()


def _nearest(
    db: Database, index: SearchIndex, opened: OpenGeneration, arxiv_id: str, limit: int
) -> tuple[tuple[str, float], ...]:
    assert opened.vectors is not None and opened.meta.vector_model is not None
    vector = opened.vectors.vector_of(arxiv_id)
    if vector is None:
        with db.read() as conn:
            stored = find_paper_vector(conn, opened.meta.vector_model, arxiv_id)
        if stored is None:
            return ()
        vector = vector_from_bytes(stored)
    exact_max = index.semantic.exact_max if index.semantic else opened.vectors.rows
    return tuple(similar_to(opened, vector, arxiv_id, limit, exact_max))


def open_for_search(db: Database, index: SearchIndex) -> OpenGeneration:
    """The generation to search; a missing or damaged one is rebuilt from the store, not served."""
    try:
        return index.searcher()
    except IndexUnavailable:
        pass  # repair() re-checks under the writer's lock and logs what it found
    repair(db, index)
    return index.searcher(force_check=True)


def _with_live_upvotes(
    db: Database, keyword: KeywordSearcher, query: Query
) -> tuple[list[tuple[str, float]], int, Collection[str] | None]:
    """A page where upvotes matter: (page, total, the ids the matches were limited to).

    Votes are not in the index, so counts come from the store. A query that can match only a
    few papers (its rarest term's document frequency says so, without running it) joins the
    counts on its candidates; a broad one asks the store for the upvoted papers (featured or
    voted: bounded by those, not by the corpus) and limits the index to them.
    """
    if keyword.max_matches(query) <= CANDIDATE_JOIN_LIMIT:
        candidates = keyword.all_matches(query, only_ids=None, limit=CANDIDATE_JOIN_LIMIT)
        with db.read() as conn:
            upvotes = find_live_upvotes(conn, [arxiv_id for arxiv_id, _, _ in candidates])
        kept = [c for c in candidates if upvotes[c[0]] >= (query.min_upvotes or 0)]
        kept.sort(key=_order(query, upvotes))
        page = [(arxiv_id, score) for arxiv_id, score, _ in kept]
        # The chart counts what the total counts: with a minimum, only the papers that reach it.
        only = [arxiv_id for arxiv_id, _ in page] if query.min_upvotes else None
        return page[query.offset : query.offset + query.limit], len(kept), only
    if query.sort != "upvotes":  # a minimum, ranked otherwise: which papers reach it is enough
        with db.read() as conn:
            upvoted = list_upvoted_ids(conn, at_least=query.min_upvotes or 1)
        order: ResultOrder = "date" if query.sort == "date" else "relevance"
        found = keyword.search(
            query, order=order, limit=query.limit, offset=query.offset, only_ids=upvoted
        )
        return found.hits, found.total, upvoted
    with db.read() as conn:
        upvotes = list_live_upvotes(conn, at_least=query.min_upvotes or 1)
    page, total = _by_upvotes(keyword, query, upvotes)
    return page, total, upvotes if query.min_upvotes else None


def _order(
    query: Query, upvotes: dict[str, int]
) -> Callable[[tuple[str, float, int]], tuple[float, ...]]:
    if query.sort == "upvotes":
        return lambda c: (-upvotes[c[0]], -c[1], -c[2])
    if query.sort == "date" or query.is_browse:
        return lambda c: (-c[2], -c[1])
    return lambda c: (-c[1], -c[2])


def _by_upvotes(
    keyword: KeywordSearcher, query: Query, upvotes: dict[str, int]
) -> tuple[list[tuple[str, float]], int]:
    """Most upvoted first: upvoted matches ranked in full here, then the rest by relevance.

    Only featured or voted papers have upvotes, so the first part is bounded by them; papers with
    none follow in the index's own order, fetched a page at a time.
    """
    matches = keyword.all_matches(query, only_ids=upvotes, limit=len(upvotes))
    voted = [(arxiv_id, score) for arxiv_id, score, _ in matches]
    voted.sort(key=lambda hit: (-upvotes[hit[0]], -hit[1], hit[0]))
    if query.min_upvotes:
        return voted[query.offset : query.offset + query.limit], len(voted)
    page = voted[query.offset : query.offset + query.limit]
    rest = keyword.search(
        query,
        order="relevance",
        limit=max(1, query.limit - len(page)),
        offset=max(0, query.offset - len(voted)),
        not_ids=upvotes,
    )
    if len(page) < query.limit:
        page = page + rest.hits
    return page, len(voted) + rest.total
