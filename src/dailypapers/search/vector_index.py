"""The derived vector index in one folder of a generation: paper vectors copied out of the store,
what filters read (publication time, month, categories) and, past `exact_max` rows, an HNSW graph.
The only module that imports usearch (lazily). It knows nothing of the store or of generations.

    vector/
      ids.txt         one arxiv_id a line; row i of every array belongs to line i
      vectors.npy     float16, memory-mapped (the store keeps float16 too)
      published.npy   int64 seconds since the epoch (0: unknown), ascending: rows are written in
                      publication order, so a date filter is one contiguous span of rows
      months.npy      int32 202405 (0: unknown), for the chart
      categories.json category (and archive), lowercased -> [first, end) into category_rows.npy
      category_rows.npy
      hnsw.usearch    only past exact_max rows: usearch HNSW, f16, inner product

Exact search reads the float16 rows with SIMD dot products (numkong, which usearch brings; numpy
otherwise): a date span is read in place, scattered rows (categories, a list of papers) gathered.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dailypapers.search.embedder import load_runtime_first

# HNSW parameters; f16 keeps recall where i8 collapses on normalised vectors. On the 120k real
# MiniLM vectors a search expanding 64 candidates found 0.81 of the exact top 10, 256: 0.94,
# 512: 0.97 (top 100: 0.94) in about 1.5 ms (bench/results/search_hybrid.md).
HNSW_CONNECTIVITY = 16
HNSW_EXPANSION_ADD = 128
HNSW_EXPANSION_SEARCH = 512
# A filtered graph search asks for k / (share of rows passing) x this many. When fewer than k of
# them pass (the query's neighbourhood lies outside the filter: "lattice" within cs.CL), asking
# the graph for 4x more each round cost up to 130 ms at 120k; exact search over the passing rows
# answers instead, up to this many of them (scattered rows: about 3 ms per 10k). Past that (a
# quarter of 1M papers: 100-250 ms exact) the graph is asked once more, for 4x, up to
# GRAPH_ASK_MAX, and what passes is the answer, even if fewer than k: such neighbours are far
# from the query (under the similarity threshold that counts and shows a semantic hit).
OVERASK = 1.5
FILTERED_EXACT_MAX = 80_000
GRAPH_ASK_MAX = 4_096

Rows = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


class VectorFilesDamaged(Exception):
    """The folder's vector files are missing, truncated or disagree with each other."""


@dataclass(frozen=True, slots=True)
class VectorRow:
    arxiv_id: str
    vector: npt.NDArray[np.float32]
    published_at: datetime | None
    categories: tuple[str, ...]


def write_vector_files(folder: Path, rows: Iterable[VectorRow], *, dim: int, exact_max: int) -> int:
    """Write the folder from `rows` (any order; written in publication order); the row count."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(rows, key=lambda r: (_seconds(r.published_at), r.arxiv_id))
    matrix = np.zeros((len(ordered), dim), dtype=np.float16)
    by_category: dict[str, list[int]] = {}
    for position, row in enumerate(ordered):
        matrix[position] = row.vector
        for category in _with_archives(row.categories):
            by_category.setdefault(category, []).append(position)
    np.save(folder / "vectors.npy", matrix)
    published = [_seconds(r.published_at) for r in ordered]
    np.save(folder / "published.npy", np.asarray(published, dtype=np.int64))
    months = [w.year * 100 + w.month if (w := r.published_at) else 0 for r in ordered]
    np.save(folder / "months.npy", np.asarray(months, dtype=np.int32))
    offsets: dict[str, list[int]] = {}
    flat: list[int] = []
    for category, members in sorted(by_category.items()):
        offsets[category] = [len(flat), len(flat) + len(members)]
        flat.extend(members)
    np.save(folder / "category_rows.npy", np.asarray(flat, dtype=np.int64))
    (folder / "categories.json").write_text(json.dumps(offsets), encoding="utf-8")
    (folder / "ids.txt").write_text("".join(f"{r.arxiv_id}\n" for r in ordered), encoding="utf-8")
    if len(ordered) > exact_max:
        _build_hnsw(folder / "hnsw.usearch", matrix)
    return len(ordered)


def _seconds(when: datetime | None) -> int:
    return int(when.timestamp()) if when else 0


def _usearch() -> Any:
    load_runtime_first()
    from usearch import index

    return index


def _build_hnsw(path: Path, matrix: npt.NDArray[Any]) -> None:
    Index = _usearch().Index  # noqa: N806

    graph = Index(
        ndim=matrix.shape[1],
        metric="ip",
        dtype="f16",
        connectivity=HNSW_CONNECTIVITY,
        expansion_add=HNSW_EXPANSION_ADD,
        expansion_search=HNSW_EXPANSION_SEARCH,
    )
    graph.add(np.arange(len(matrix), dtype=np.uint64), matrix, threads=0)
    graph.save(str(path))


def _with_archives(categories: Iterable[str]) -> list[str]:
    found: dict[str, None] = {}
    for category in categories:
        found.setdefault(category.lower(), None)
        found.setdefault(category.split(".", 1)[0].lower(), None)
    return list(found)


@cache
def _kernels() -> Any:
    """numkong's SIMD kernels (installed with usearch), or None: numpy is used instead."""
    load_runtime_first()
    try:
        import numkong  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return numkong


def dot_products(matrix: npt.NDArray[Any], query: npt.NDArray[np.float32]) -> Any:
    """`matrix @ query` as float32, for float16 or float32 rows."""
    if len(matrix) == 0:
        return np.zeros(0, dtype=np.float32)
    kernels = _kernels()
    if kernels is None or matrix.dtype not in (np.float16, np.float32):
        return np.asarray(matrix, dtype=np.float32) @ query
    found = kernels.cdist(
        matrix, query.astype(matrix.dtype)[None, :], metric="dot", out_dtype="float32"
    )
    return np.asarray(found, dtype=np.float32).reshape(-1)


@dataclass(frozen=True, slots=True)
class Keep:
    """The rows passing the filters: those in [lo, hi) where `mask` (over every row) is true,
    or all of them when `mask` is None. `count` of them."""

    lo: int
    hi: int
    mask: Mask | None
    count: int

    def rows(self) -> Rows:
        if self.mask is None:
            return np.arange(self.lo, self.hi, dtype=np.int64)
        return np.flatnonzero(self.mask[self.lo : self.hi]) + self.lo

    def passing(self, rows: Rows) -> npt.NDArray[np.bool_]:
        ok: npt.NDArray[np.bool_] = (rows >= self.lo) & (rows < self.hi)
        if self.mask is not None:
            ok &= self.mask[np.clip(rows, 0, len(self.mask) - 1)]
        return ok

    def narrowed(self, mask: Mask) -> Keep:
        """Also requiring `mask` (over every row)."""
        both = mask if self.mask is None else self.mask & mask
        return Keep(self.lo, self.hi, both, int(np.count_nonzero(both[self.lo : self.hi])))


class VectorSearcher:
    """A read-only view of one vector folder, memory-mapped; safe to share between threads."""

    def __init__(self, folder: Path, *, expansion_search: int = HNSW_EXPANSION_SEARCH) -> None:
        try:
            self.ids = (folder / "ids.txt").read_text(encoding="utf-8").split()
            self._vectors = np.load(folder / "vectors.npy", mmap_mode="r")
            self._published = np.load(folder / "published.npy")
            self._months = np.load(folder / "months.npy")
            self._category_rows = np.load(folder / "category_rows.npy")
            self._categories: dict[str, list[int]] = json.loads(
                (folder / "categories.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError) as exc:
            raise VectorFilesDamaged(f"{folder}: {exc}") from exc
        count = len(self.ids)
        if not (len(self._vectors) == len(self._published) == len(self._months) == count):
            raise VectorFilesDamaged(f"{folder}: the arrays disagree on the row count")
        self._row = {arxiv_id: row for row, arxiv_id in enumerate(self.ids)}
        self._in_date_order = bool(np.all(self._published[1:] >= self._published[:-1]))
        self._graph: Any = None
        if (folder / "hnsw.usearch").is_file():
            self._graph = _usearch().Index.restore(str(folder / "hnsw.usearch"), view=True)
            if self._graph is None or len(self._graph) != count:
                raise VectorFilesDamaged(f"{folder}: the HNSW graph does not match the vectors")
            self._graph.expansion_search = expansion_search

    @property
    def rows(self) -> int:
        return len(self.ids)

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    @property
    def uses_graph(self) -> bool:
        return self._graph is not None

    def row_of(self, arxiv_id: str) -> int | None:
        return self._row.get(arxiv_id)

    def vector_of(self, arxiv_id: str) -> npt.NDArray[np.float32] | None:
        row = self._row.get(arxiv_id)
        return None if row is None else np.asarray(self._vectors[row], dtype=np.float32)

    def mask(
        self,
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        categories: Collection[str] = (),
        only_ids: Collection[str] | None = None,
    ) -> Keep | None:
        """Rows passing the filters, or None when nothing filters (every row passes)."""
        if not (date_from or date_to or categories or only_ids is not None):
            return None
        lo, hi, mask = 0, self.rows, None
        if date_from or date_to:
            low = max(1, _epoch(date_from)) if date_from else 1  # 0: an unknown date
            high = _epoch(date_to + timedelta(days=1)) - 1 if date_to else np.iinfo(np.int64).max
            if self._in_date_order:
                lo = int(np.searchsorted(self._published, low, side="left"))
                hi = max(lo, int(np.searchsorted(self._published, high, side="right")))
            else:  # a folder written before rows were kept in publication order
                mask = (self._published >= low) & (self._published <= high)
        if categories:
            in_any = self.in_categories(categories)
            mask = in_any if mask is None else mask & in_any
        if only_ids is not None:
            listed = self.rows_mask(only_ids)
            mask = listed if mask is None else mask & listed
        count = hi - lo if mask is None else int(np.count_nonzero(mask[lo:hi]))
        return Keep(lo, hi, mask, count)

    def in_categories(self, categories: Collection[str]) -> Mask:
        """Rows in any of these categories (or archives)."""
        found = np.zeros(self.rows, dtype=bool)
        for category in categories:
            span = self._categories.get(category.lower())
            if span is not None:
                found[self._category_rows[span[0] : span[1]]] = True
        return found

    def rows_mask(self, arxiv_ids: Collection[str]) -> Mask:
        listed = np.zeros(self.rows, dtype=bool)
        rows = [r for i in arxiv_ids if (r := self._row.get(i)) is not None]
        listed[np.asarray(rows, dtype=np.int64)] = True
        return listed

    def cosines(
        self, arxiv_ids: Collection[str], query: npt.NDArray[np.float32]
    ) -> dict[str, float]:
        """The cosine of `query` with each of these papers that has a vector."""
        known = [(i, r) for i in arxiv_ids if (r := self._row.get(i)) is not None]
        if not known:
            return {}
        rows = np.asarray([r for _, r in known], dtype=np.int64)
        sims = dot_products(np.take(self._vectors, rows, axis=0), query)
        return {i: float(c) for (i, _), c in zip(known, sims, strict=True)}

    def nearest(
        self, query: npt.NDArray[np.float32], k: int, *, keep: Keep | None, exact_max: int
    ) -> list[tuple[int, float]]:
        """The k most similar rows passing `keep`, best first, as (row, cosine).

        Exact when the candidates number at most `exact_max` (or there is no graph); otherwise
        the HNSW graph, asked for more until k candidates pass the filter.
        """
        if k <= 0 or self.rows == 0:
            return []
        candidates = self.rows if keep is None else keep.count
        if candidates == 0:
            return []
        if not self.graph_answers(k, keep, exact_max):
            return self._exact(query, k, keep)
        return self._approximate(query, k, keep, candidates)

    def graph_answers(self, k: int, keep: Keep | None, exact_max: int) -> bool:
        """Whether `nearest` asks the graph (else it is exact over the passing rows).

        `exact_max` rows read in place cost about one graph search of the default expansion;
        a graph search asked for more (a filtered one asks for k / share passing) costs in
        proportion, so a filter that keeps a few percent of a large corpus (a quarter of 1M
        papers: 35k rows, in place) is cheaper exact than through a graph asked for 4,000.
        Scattered rows (categories, lists) cost about twice as much to read as a span."""
        if self._graph is None:
            return False
        candidates = self.rows if keep is None else keep.count
        if candidates <= exact_max:
            return False
        if keep is None:
            return True
        asked = max(self._ask(k, keep, candidates), int(self._graph.expansion_search))
        budget = exact_max * asked / max(1, int(self._graph.expansion_search))
        in_place = keep.mask is None or candidates * 3 >= keep.hi - keep.lo
        return candidates > (budget if in_place else budget / 2)

    def _ask(self, k: int, keep: Keep | None, candidates: int) -> int:
        if keep is None:
            return k
        share = candidates / self.rows
        wanted = max(k * 2, int(k / share * OVERASK) + 8)
        return min(self.rows, max(k, min(wanted, GRAPH_ASK_MAX)))

    def _exact(
        self, query: npt.NDArray[np.float32], k: int, keep: Keep | None
    ) -> list[tuple[int, float]]:
        lo, hi = (0, self.rows) if keep is None else (keep.lo, keep.hi)
        if keep is None or keep.mask is None:
            rows: Rows = np.arange(lo, hi, dtype=np.int64)
            sims = dot_products(self._vectors[lo:hi], query)
        else:
            rows = keep.rows()
            if len(rows) * 3 >= hi - lo:  # dense enough: read the span in place
                sims = dot_products(self._vectors[lo:hi], query)[rows - lo]
            else:
                sims = dot_products(np.take(self._vectors, rows, axis=0), query)
        k = min(k, len(rows))
        if k == 0:
            return []
        top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(rows[i]), float(sims[i])) for i in top]

    def _approximate(
        self, query: npt.NDArray[np.float32], k: int, keep: Keep | None, candidates: int
    ) -> list[tuple[int, float]]:
        ask = self._ask(k, keep, candidates)
        while True:
            found = self._graph.search(query.astype(np.float16), ask)
            keys = np.asarray(found.keys, dtype=np.int64)
            cosines = 1.0 - np.asarray(found.distances, dtype=np.float32)
            if keep is not None:
                ok = keep.passing(keys)
                keys, cosines = keys[ok], cosines[ok]
            if len(keys) >= k or ask >= self.rows:
                return [(int(r), float(c)) for r, c in zip(keys[:k], cosines[:k], strict=True)]
            if candidates <= FILTERED_EXACT_MAX:
                return self._exact(query, k, keep)
            if ask >= GRAPH_ASK_MAX:
                return [(int(r), float(c)) for r, c in zip(keys, cosines, strict=True)]
            ask = min(self.rows, GRAPH_ASK_MAX, ask * 4)

    def months_of(self, rows: Iterable[int]) -> list[int]:
        return [int(self._months[row]) for row in rows]


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
