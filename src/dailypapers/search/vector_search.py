"""Searching with vectors: the semantic and hybrid relevance orders of `search_papers`, and
similar papers. Filters narrow the vector candidates before ranking (a span and mask of rows);
`cat:` clauses do too; other fielded clauses and exclusions are checked on the keyword index.

What counts as a match (the total and the chart): in semantic mode, the papers with a cosine of
at least `min_similarity` among the nearest DENSE_HITS_MAX; in hybrid mode, every keyword match
(all words) plus the semantic hits that are not keyword matches, where the fused keyword
candidates over the threshold count as semantic hits too.
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
from dailypapers.search.vector_index import Keep, Mask, VectorSearcher

# Semantic hits counted per query: the nearest this many at most (a broad query has thousands of
# papers over the threshold; counting them all would cost a full sort). It is also the dense
# side's pool: asking the graph for more costs more than the rest of the search.
DENSE_HITS_MAX = 100
# A query whose fielded clauses (au:, ti:...) match at most this many papers is answered exactly
# over those papers (reading their ids costs a few microseconds each); broader ones check the
# nearest candidates, asking for more until enough pass.
CONSTRAINED_EXACT_MAX = 5_000
# A broader fielded clause has the nearest candidates checked against it, asking for
# k / (share matching) x 1.5; at most this many (a graph search asked for 25,000 took ~1 s at
# 1M, checking them 120 ms): fewer than k may pass, the keyword side still ranks every match.
CONSTRAINED_ASK_MAX = 2_048
# Keyword matches (every word) read along with their total: when that is all of them, which of
# the fused candidates are keyword matches needs no second search (a long query has almost none).
STRICT_PEEK = 64


@dataclass(frozen=True, slots=True)
class VectorPage:
    page: list[tuple[str, float]]
    total: int
    months: tuple[MonthCount, ...]
    similarities: dict[str, float]
    # How many of the query's words the keyword side ranked by (hybrid); 0 in semantic mode.
    words: int = 0


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
    k = max(DENSE_HITS_MAX, wanted)
    nearest = _nearest(keyword, vectors, vector, query, keep, k, config.exact_max)
    cosines = dict(nearest)
    hits = [(i, c) for i, c in nearest[:DENSE_HITS_MAX] if c >= config.min_similarity]
    if query.mode == "semantic":
        chart = _months(vectors, [i for i, _ in hits]) if with_months else ()
        window = hits[query.offset : query.offset + query.limit]
        return VectorPage(window, len(hits), chart, cosines)
    words = keyword.any_words(query)
    lexical = keyword.search_any(query, limit=wanted, only_ids=only_ids, words=words)
    cosines.update(vectors.cosines([i for i, _ in lexical if i not in cosines], vector))
    # A keyword candidate over the threshold is a semantic hit as well, though past the nearest.
    counted = {i for i, _ in hits}
    hits += sorted(
        ((i, c) for i, c in cosines.items() if c >= config.min_similarity and i not in counted),
        key=lambda hit: -hit[1],
    )
    dense = nearest[:wanted]
    candidates = {i for i, _ in lexical} | {i for i, _ in dense} | {i for i, _ in hits}
    strict = keyword.search(query, order="relevance", limit=STRICT_PEEK, only_ids=only_ids)
    keyword_total = strict.total
    if keyword_total <= len(strict.hits):  # every keyword match is in hand
        matches = {i for i, _ in strict.hits} & candidates
    else:
        matches = keyword.matching_ids(query, candidates)
    shown = [
        (arxiv_id, score)
        for arxiv_id, score in fuse(lexical, dense, cosines, config.fusion)
        if arxiv_id in matches or cosines.get(arxiv_id, -1.0) >= config.min_similarity
    ]
    semantic_only = [i for i, _ in hits if i not in matches]
    total = keyword_total + len(semantic_only)
    end = query.offset + query.limit
    if len(shown) < min(end, total):
        shown = _extend(shown, keyword, query, only_ids, end, hits)
    months: tuple[MonthCount, ...] = ()
    if with_months:
        months = _merge_months(keyword.months(query, only_ids=only_ids), vectors, semantic_only)
    return VectorPage(
        shown[query.offset : end], max(total, len(shown)), months, cosines, words=len(words)
    )


def _nearest(
    keyword: KeywordSearcher,
    vectors: VectorSearcher,
    vector: npt.NDArray[np.float32],
    query: Query,
    keep: Keep | None,
    k: int,
    exact_max: int,
) -> list[tuple[str, float]]:
    """The k nearest papers passing the filters and the query's fielded clauses and exclusions."""
    constraints = query.constraints
    if any(c.field == "cat" for c in constraints):  # categories are columns of the vector rows
        for clause in constraints:
            if clause.field == "cat":
                in_category = vectors.in_categories([clause.text])
                keep = _narrowed(vectors, keep, ~in_category if clause.excluded else in_category)
        constraints = tuple(c for c in constraints if c.field != "cat")
    if not constraints:
        found = vectors.nearest(vector, k, keep=keep, exact_max=exact_max)
        return [(vectors.ids[r], c) for r, c in found]
    checked = replace(query, text="", clauses=constraints)
    share = 1.0
    if any(c.field is not None and not c.excluded for c in constraints):
        count = keyword.count(checked)
        if count <= CONSTRAINED_EXACT_MAX:
            matches = keyword.all_matches(checked, only_ids=None, limit=max(count, 1))
            only = vectors.rows_mask([i for i, _, _ in matches])
            found = vectors.nearest(
                vector, k, keep=_narrowed(vectors, keep, only), exact_max=exact_max
            )
            return [(vectors.ids[r], c) for r, c in found]
        share = count / max(vectors.rows, 1)
    ask = min(vectors.rows, CONSTRAINED_ASK_MAX, max(k * 2, int(k / share * 1.5)))
    while True:
        found = vectors.nearest(vector, ask, keep=keep, exact_max=exact_max)
        pairs = [(vectors.ids[r], c) for r, c in found]
        passing = keyword.matching_ids(checked, [i for i, _ in pairs], constraints_only=True)
        kept = [(i, c) for i, c in pairs if i in passing]
        if len(kept) >= k or len(found) < ask or ask >= CONSTRAINED_ASK_MAX:
            return kept[:k]
        ask = min(vectors.rows, CONSTRAINED_ASK_MAX, ask * 4)


def _narrowed(vectors: VectorSearcher, keep: Keep | None, mask: Mask) -> Keep:
    if keep is None:
        return Keep(0, vectors.rows, mask, int(np.count_nonzero(mask)))
    return keep.narrowed(mask)


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
