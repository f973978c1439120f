"""Searching with vectors: the semantic and hybrid relevance orders of `search_papers`, and
similar papers. Filters narrow the vector candidates before ranking (a mask over the rows);
fielded clauses and exclusions are checked on the keyword index, asking for more until enough pass.

What counts as a match (the total and the chart): in semantic mode, the nearest papers with a
cosine of at least `min_similarity` (at most DENSE_HITS_MAX); in hybrid mode, every keyword match
(all words) plus those semantic hits that are not keyword matches.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from dailypapers.search.embedder import Embedder
from dailypapers.search.hybrid import MAX_POOL, SemanticConfig, fuse
from dailypapers.search.index import OpenGeneration
from dailypapers.search.keyword import KeywordSearcher
from dailypapers.search.query import Query
from dailypapers.search.results import MonthCount
from dailypapers.search.semantic import Mask, VectorSearcher

# Semantic hits counted per query: the nearest this many at most (a broad query has thousands of
# papers over the threshold; counting them all would cost a full sort).
DENSE_HITS_MAX = 300
# A query whose fielded clauses (au:, ti:...) match at most this many papers is answered exactly
# over those papers; broader ones check the nearest candidates, asking for more until enough pass.
CONSTRAINED_EXACT_MAX = 20_000


@dataclass(frozen=True, slots=True)
class VectorPage:
    page: list[tuple[str, float]]
    total: int
    months: tuple[MonthCount, ...]
    similarities: dict[str, float]


def vector_search(
    opened: OpenGeneration,
    config: SemanticConfig,
    embedder: Embedder,
    query: Query,
    *,
    only_ids: Collection[str] | None,
    with_months: bool,
) -> VectorPage | None:
    """One page in `query.mode` (semantic or hybrid) relevance order; None when the query has no
    text to embed or the generation has no vectors (the caller falls back to keyword search)."""
    vectors, keyword = opened.vectors, opened.keyword
    text = query.semantic_text
    if vectors is None or vectors.rows == 0 or not text or vectors.dim != embedder.dim:
        return None
    vector = embedder.embed([text])[0]
    keep = vectors.mask(
        date_from=query.date_from,
        date_to=query.date_to,
        categories=query.categories,
        only_ids=only_ids,
    )
    wanted = min(MAX_POOL, max(config.pool, query.offset + query.limit))
    nearest = _nearest(keyword, vectors, vector, query, keep, DENSE_HITS_MAX, config.exact_max)
    cosines = dict(nearest)
    hits = [(i, c) for i, c in nearest if c >= config.min_similarity]
    if query.mode == "semantic":
        chart = _months(vectors, [i for i, _ in hits]) if with_months else ()
        window = hits[query.offset : query.offset + query.limit]
        return VectorPage(window, len(hits), chart, cosines)
    lexical = keyword.search_any(query, limit=wanted, only_ids=only_ids)
    for arxiv_id, _ in lexical:
        if arxiv_id not in cosines and (row_vector := vectors.vector_of(arxiv_id)) is not None:
            cosines[arxiv_id] = float(row_vector @ vector)
    dense = nearest[:wanted]
    candidates = {i for i, _ in lexical} | {i for i, _ in dense} | {i for i, _ in hits}
    matches = keyword.matching_ids(query, candidates)
    shown = [
        (arxiv_id, score)
        for arxiv_id, score in fuse(lexical, dense, cosines, config.fusion)
        if arxiv_id in matches or cosines.get(arxiv_id, -1.0) >= config.min_similarity
    ]
    keyword_total = keyword.search(query, order="relevance", limit=1, only_ids=only_ids).total
    semantic_only = [i for i, _ in hits if i not in matches]
    total = keyword_total + len(semantic_only)
    end = query.offset + query.limit
    if len(shown) < min(end, total):
        shown = _extend(shown, keyword, query, only_ids, end, hits)
    months: tuple[MonthCount, ...] = ()
    if with_months:
        months = _merge_months(keyword.months(query, only_ids=only_ids), vectors, semantic_only)
    return VectorPage(shown[query.offset : end], max(total, len(shown)), months, cosines)


def _nearest(
    keyword: KeywordSearcher,
    vectors: VectorSearcher,
    vector: npt.NDArray[np.float32],
    query: Query,
    keep: Mask | None,
    k: int,
    exact_max: int,
) -> list[tuple[str, float]]:
    """The k nearest papers passing the filters and the query's fielded clauses and exclusions."""
    if not query.constraints:
        found = vectors.nearest(vector, k, keep=keep, exact_max=exact_max)
        return [(vectors.ids[r], c) for r, c in found]
    if any(c.field is not None and not c.excluded for c in query.constraints):
        narrowed = replace(query, text="", clauses=query.constraints)
        if keyword.count(narrowed) <= CONSTRAINED_EXACT_MAX:
            matches = keyword.all_matches(narrowed, only_ids=None, limit=CONSTRAINED_EXACT_MAX)
            only = vectors.mask(only_ids=[i for i, _, _ in matches])
            both = only if keep is None or only is None else keep & only
            found = vectors.nearest(vector, k, keep=both, exact_max=exact_max)
            return [(vectors.ids[r], c) for r, c in found]
    ask = k * 2
    while True:
        found = vectors.nearest(vector, ask, keep=keep, exact_max=exact_max)
        pairs = [(vectors.ids[r], c) for r, c in found]
        passing = keyword.matching_ids(query, [i for i, _ in pairs], constraints_only=True)
        kept = [(i, c) for i, c in pairs if i in passing]
        if len(kept) >= k or len(found) < ask:
            return kept[:k]
        ask *= 4


def _extend(
    shown: list[tuple[str, float]],
    keyword: KeywordSearcher,
    query: Query,
    only_ids: Collection[str] | None,
    end: int,
    hits: list[tuple[str, float]],
) -> list[tuple[str, float]]:
    """A deep page past the fused candidates: keyword matches by BM25, then semantic hits."""
    seen = {i for i, _ in shown}
    more = keyword.search(query, order="relevance", limit=end, only_ids=only_ids).hits
    extended = list(shown)
    for arxiv_id, score in [*more, *hits]:
        if arxiv_id not in seen:
            seen.add(arxiv_id)
            extended.append((arxiv_id, score))
    return extended


def _months(vectors: VectorSearcher, arxiv_ids: list[str]) -> tuple[MonthCount, ...]:
    return _merge_months((), vectors, arxiv_ids)


def _merge_months(
    keyword_months: tuple[MonthCount, ...], vectors: VectorSearcher, arxiv_ids: list[str]
) -> tuple[MonthCount, ...]:
    counts = Counter({m.month: m.count for m in keyword_months})
    rows = [r for i in arxiv_ids if (r := vectors.row_of(i)) is not None]
    for key in vectors.months_of(rows):
        if key:
            counts[f"{key // 100:04d}-{key % 100:02d}"] += 1
    return tuple(MonthCount(month, n) for month, n in sorted(counts.items()))


def similar_to(
    opened: OpenGeneration,
    vector: npt.NDArray[np.float32],
    exclude: str,
    limit: int,
    exact_max: int,
) -> list[tuple[str, float]]:
    """The `limit` papers nearest to `vector`, leaving out `exclude` (the paper itself)."""
    vectors = opened.vectors
    if vectors is None or vectors.rows == 0 or len(vector) != vectors.dim:
        return []
    found = vectors.nearest(vector, limit + 1, keep=None, exact_max=exact_max)
    return [(vectors.ids[r], c) for r, c in found if vectors.ids[r] != exclude][:limit]
