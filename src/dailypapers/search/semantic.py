"""The derived vector index in one folder of a generation: paper vectors copied out of the store,
what filters read (publication time, month, categories) and, past `exact_max` rows, an HNSW graph.
The only module that imports usearch (lazily). It knows nothing of the store or of generations.

    vector/
      ids.txt         one arxiv_id a line; row i of every array belongs to line i
      vectors.npy     float32 (exact search, memory-mapped) or float16 beside an HNSW graph
      published.npy   int64 seconds since the epoch (0: unknown), for date filters
      months.npy      int32 202405 (0: unknown), for the chart
      categories.json category (and archive), lowercased -> [first, end) into category_rows.npy
      category_rows.npy
      hnsw.usearch    only past exact_max rows: usearch HNSW, f16, inner product
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dailypapers.search.embedder import load_runtime_first

# Exact search up to this many rows: a float32 matmul over memory-mapped rows costs about 28 ms at
# 120k on 2 busy cores (7 ms in research/tech-bench.md §3, idle), too much of a 20 ms budget; past
# it an HNSW graph answers in about a millisecond at recall 0.999.
EXACT_MAX_ROWS = 20_000
# HNSW parameters measured at recall 0.999 on 100k vectors (tech-bench §3); f16 keeps recall
# where i8 collapses on normalised vectors.
HNSW_CONNECTIVITY = 16
HNSW_EXPANSION_ADD = 128
HNSW_EXPANSION_SEARCH = 64

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
    """Write the folder from `rows` (any order); returns the row count."""
    folder.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []
    vectors: list[npt.NDArray[np.float32]] = []
    published: list[int] = []
    months: list[int] = []
    by_category: dict[str, list[int]] = {}
    for row in rows:
        position = len(ids)
        ids.append(row.arxiv_id)
        vectors.append(row.vector)
        when = row.published_at
        published.append(int(when.timestamp()) if when else 0)
        months.append(when.year * 100 + when.month if when else 0)
        for category in _with_archives(row.categories):
            by_category.setdefault(category, []).append(position)
    matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, dim), np.float32)
    big = len(ids) > exact_max
    np.save(folder / "vectors.npy", matrix.astype(np.float16) if big else matrix)
    np.save(folder / "published.npy", np.asarray(published, dtype=np.int64))
    np.save(folder / "months.npy", np.asarray(months, dtype=np.int32))
    offsets: dict[str, list[int]] = {}
    flat: list[int] = []
    for category, members in sorted(by_category.items()):
        offsets[category] = [len(flat), len(flat) + len(members)]
        flat.extend(members)
    np.save(folder / "category_rows.npy", np.asarray(flat, dtype=np.int64))
    (folder / "categories.json").write_text(json.dumps(offsets), encoding="utf-8")
    (folder / "ids.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
    if big:
        _build_hnsw(folder / "hnsw.usearch", matrix)
    return len(ids)


def _usearch() -> Any:
    load_runtime_first()
    from usearch import index

    return index


def _build_hnsw(path: Path, matrix: npt.NDArray[np.float32]) -> None:
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
    ) -> Mask | None:
        """Rows passing the filters, or None when nothing filters (every row passes)."""
        keep: Mask | None = None
        if date_from or date_to:
            low = _epoch(date_from) if date_from else np.iinfo(np.int64).min
            high = _epoch(date_to + timedelta(days=1)) - 1 if date_to else np.iinfo(np.int64).max
            keep = (self._published >= low) & (self._published <= high) & (self._published != 0)
        if categories:
            in_any = np.zeros(self.rows, dtype=bool)
            for category in categories:
                span = self._categories.get(category.lower())
                if span is not None:
                    in_any[self._category_rows[span[0] : span[1]]] = True
            keep = in_any if keep is None else keep & in_any
        if only_ids is not None:
            listed = np.zeros(self.rows, dtype=bool)
            rows = [r for i in only_ids if (r := self._row.get(i)) is not None]
            listed[np.asarray(rows, dtype=np.int64)] = True
            keep = listed if keep is None else keep & listed
        return keep

    def similarities(self, query: npt.NDArray[np.float32], rows: Rows | None = None) -> Any:
        """Cosine of `query` with every row (or with `rows`), exact."""
        if rows is None:
            return np.asarray(self._vectors @ query.astype(self._vectors.dtype), dtype=np.float32)
        chosen = np.asarray(self._vectors[np.sort(rows)], dtype=np.float32)
        return chosen @ query

    def nearest(
        self, query: npt.NDArray[np.float32], k: int, *, keep: Mask | None, exact_max: int
    ) -> list[tuple[int, float]]:
        """The k most similar rows passing `keep`, best first, as (row, cosine).

        Exact when the candidates number at most `exact_max` (or there is no graph); otherwise
        the HNSW graph, asked for more until k candidates pass the filter.
        """
        if k <= 0 or self.rows == 0:
            return []
        candidates = self.rows if keep is None else int(keep.sum())
        if candidates == 0:
            return []
        if self._graph is None or candidates <= exact_max:
            return self._exact(query, k, keep, candidates)
        return self._approximate(query, k, keep, candidates)

    def _exact(
        self, query: npt.NDArray[np.float32], k: int, keep: Mask | None, candidates: int
    ) -> list[tuple[int, float]]:
        if keep is None:
            rows: Rows = np.arange(self.rows, dtype=np.int64)
            sims = self.similarities(query)
        elif candidates * 4 < self.rows:
            rows = np.flatnonzero(keep)
            sims = self.similarities(query, rows)
        else:
            rows = np.flatnonzero(keep)
            sims = self.similarities(query)[rows]
        k = min(k, len(rows))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(rows) else np.arange(len(rows))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(rows[i]), float(sims[i])) for i in top]

    def _approximate(
        self, query: npt.NDArray[np.float32], k: int, keep: Mask | None, candidates: int
    ) -> list[tuple[int, float]]:
        share = candidates / self.rows
        ask = k if keep is None else min(self.rows, max(k * 2, int(k / share * 1.5) + 8))
        while True:
            found = self._graph.search(query.astype(np.float16), ask)
            pairs = [
                (int(key), 1.0 - float(distance))
                for key, distance in zip(found.keys, found.distances, strict=True)
                if keep is None or keep[int(key)]
            ]
            if len(pairs) >= k or ask >= self.rows:
                return pairs[:k]
            ask = min(self.rows, ask * 4)

    def months_of(self, rows: Iterable[int]) -> list[int]:
        return [int(self._months[row]) for row in rows]


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
