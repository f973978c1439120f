"""Fusing the keyword and the dense ranking into one: pure functions of the two candidate lists,
tested without I/O. The weights were tuned on real papers (bench/search_quality.py, docs/search.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dailypapers.search.embedder import Embedder, LazyEmbedder

FusionMethod = Literal["rrf", "convex"]


@dataclass(frozen=True, slots=True)
class Fusion:
    """How the two rankings combine.

    rrf: Σ weight / (k + rank) over the lists a paper appears in (reciprocal-rank fusion).
    convex: alpha · cosine + (1 - alpha) · BM25 / best BM25 among the candidates; a paper
    the keyword side did not rank scores 0 there. Every candidate's cosine is known exactly.
    """

    method: FusionMethod = "convex"
    rrf_k: float = 60.0
    keyword_weight: float = 1.0
    dense_weight: float = 1.0
    alpha: float = 0.8


# Tuned on the dev half of both query sets (titles and removed abstract sentences, real papers).
DEFAULT_FUSION = Fusion()


def fuse(
    keyword: Sequence[tuple[str, float]],
    dense: Sequence[tuple[str, float]],
    cosines: Mapping[str, float],
    fusion: Fusion = DEFAULT_FUSION,
) -> list[tuple[str, float]]:
    """Every candidate of either list with its fused score, best first (ties by arxiv_id).

    `keyword` is (arxiv_id, BM25) best first, `dense` (arxiv_id, cosine) best first, and
    `cosines` the cosine of every candidate of both lists.
    """
    scores: dict[str, float] = {}
    if fusion.method == "rrf":
        for weight, ranked in ((fusion.keyword_weight, keyword), (fusion.dense_weight, dense)):
            for rank, (arxiv_id, _) in enumerate(ranked, start=1):
                scores[arxiv_id] = scores.get(arxiv_id, 0.0) + weight / (fusion.rrf_k + rank)
    else:
        best = max((score for _, score in keyword), default=0.0)
        lexical = {arxiv_id: score / best for arxiv_id, score in keyword} if best > 0 else {}
        for arxiv_id in {*(i for i, _ in keyword), *(i for i, _ in dense)}:
            scores[arxiv_id] = fusion.alpha * cosines.get(arxiv_id, 0.0) + (
                1.0 - fusion.alpha
            ) * lexical.get(arxiv_id, 0.0)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


# Candidates taken from each side before fusing (more when a deep page asks for them).
POOL = 100
MAX_POOL = 1_000


@dataclass(frozen=True, slots=True)
class SemanticConfig:
    """What a search needs beyond the index files to use vectors: the query embedder and knobs."""

    embedder: Embedder | LazyEmbedder
    min_similarity: float
    exact_max: int
    fusion: Fusion = DEFAULT_FUSION
    pool: int = POOL

    def query_embedder(self) -> Embedder | None:
        if isinstance(self.embedder, LazyEmbedder):
            return self.embedder.get()
        return self.embedder
