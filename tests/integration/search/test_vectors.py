"""Vectors in the store and in the index, on both backends, with a tiny deterministic embedder:
embedding what is missing or stale, importing precomputed vectors, semantic and hybrid plumbing,
filters before ranking, similar papers. Quality is measured with the real model elsewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dailypapers.errors import InvalidRequest, NotFound
from dailypapers.search import SearchIndex, catch_up, parse_query, search_papers
from dailypapers.search.embedder import HashEmbedder
from dailypapers.search.paper_vectors import embed_missing, import_vectors, refresh_vectors
from dailypapers.search.service import similar_papers
from dailypapers.store import Database
from tests.factories import EXACT_MAX_ROWS, semantic_config
from tests.integration.search.support import hide, record_of, rewrite

EMBEDDER = HashEmbedder(dim=64)
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def _semantic_index(tmp_path: Path) -> SearchIndex:
    config = semantic_config(EMBEDDER, min_similarity=0.2)
    return SearchIndex(tmp_path / "index", reopen_check_seconds=0.0, semantic=config)


def _ready(db: Database, index: SearchIndex) -> None:
    catch_up(db, index)
    embed_missing(db, EMBEDDER, now=lambda: NOW)
    refresh_vectors(db, index, EMBEDDER.model_id, EMBEDDER.dim, exact_max=EXACT_MAX_ROWS)


def _some_ids(db: Database, n: int) -> list[str]:
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT arxiv_id FROM papers ORDER BY arxiv_id").all()
    return [r[0] for r in rows[:n]]


def test_embedding_fills_what_is_missing_then_only_what_went_stale(sample_db: Database) -> None:
    seen: list[tuple[int, int]] = []
    first = embed_missing(sample_db, EMBEDDER, progress=lambda d, t: seen.append((d, t)))
    assert first.embedded > 2_000
    assert first.current == 0
    assert seen[0] == (0, first.embedded)
    assert seen[-1] == (first.embedded, first.embedded)

    changed = _some_ids(sample_db, 1)[0]
    rewrite(sample_db, record_of(sample_db, changed, abstract="A new abstract about graphs."))
    second = embed_missing(sample_db, EMBEDDER)
    assert (second.embedded, second.current) == (1, first.embedded - 1)


def test_import_refuses_another_model_or_other_dimensions(
    sample_db: Database, tmp_path: Path
) -> None:
    ids = _some_ids(sample_db, 3)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    np.save(tmp_path / "v.npy", np.ones((3, 8), dtype=np.float16))
    arguments: dict[str, Any] = {"now": NOW, "expected_model_id": "m", "expected_dim": 8}
    with pytest.raises(InvalidRequest, match="from 'other'"):
        import_vectors(
            sample_db, tmp_path / "v.npy", tmp_path / "ids.txt", model_id="other", **arguments
        )
    np.save(tmp_path / "w.npy", np.ones((3, 9), dtype=np.float32))
    with pytest.raises(InvalidRequest, match="9 dimensions"):
        import_vectors(
            sample_db, tmp_path / "w.npy", tmp_path / "ids.txt", model_id="m", **arguments
        )
    (tmp_path / "ids.txt").write_text("\n".join([*ids[:2], "0000.00000"]) + "\n")
    report = import_vectors(
        sample_db, tmp_path / "v.npy", tmp_path / "ids.txt", model_id="m", **arguments
    )
    assert (report.written, report.unknown) == (2, 1)


def test_imported_vectors_count_as_current(sample_db: Database, tmp_path: Path) -> None:
    ids = _some_ids(sample_db, 50)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    np.save(tmp_path / "v.npy", np.ones((50, EMBEDDER.dim), dtype=np.float16) / 8)
    import_vectors(
        sample_db,
        tmp_path / "v.npy",
        tmp_path / "ids.txt",
        model_id=EMBEDDER.model_id,
        expected_model_id=EMBEDDER.model_id,
        expected_dim=EMBEDDER.dim,
        now=NOW,
    )
    assert embed_missing(sample_db, EMBEDDER).current == 50


def test_semantic_and_hybrid_fall_back_to_keyword_without_vectors(
    sample_db: Database, tmp_path: Path
) -> None:
    index = _semantic_index(tmp_path)
    catch_up(sample_db, index)
    result = search_papers(sample_db, index, parse_query("diffusion", mode="semantic"))
    assert result.mode == "keyword"
    assert result.total > 0


def test_hybrid_finds_papers_a_keyword_search_misses(sample_db: Database, tmp_path: Path) -> None:
    index = _semantic_index(tmp_path)
    _ready(sample_db, index)
    text = "diffusion video generation zzzunknownword"
    keyword = search_papers(sample_db, index, parse_query(text, mode="keyword"))
    hybrid = search_papers(sample_db, index, parse_query(text), with_months=True)
    assert keyword.total == 0
    assert hybrid.mode == "hybrid"
    assert hybrid.total > 0
    assert sum(m.count for m in hybrid.months) == hybrid.total
    assert all(h.similarity is not None and h.similarity >= 0.2 for h in hybrid.hits)


def test_filters_and_exclusions_apply_before_the_dense_ranking(
    sample_db: Database, tmp_path: Path
) -> None:
    index = _semantic_index(tmp_path)
    _ready(sample_db, index)
    query = parse_query(
        "language model reasoning -au:zzz -benchmark",
        mode="semantic",
        date_from=date(2026, 6, 1),
        date_to=date(2026, 6, 30),
        limit=50,
    )
    result = search_papers(sample_db, index, query)
    assert result.hits
    for hit in result.hits:
        published = hit.paper.published_at
        assert published is not None and date(2026, 6, 1) <= published.date() <= date(2026, 6, 30)
        assert "benchmark" not in (hit.paper.title + hit.paper.abstract).lower()


def test_a_keyword_catch_up_keeps_the_vectors_and_hidden_papers_are_not_shown(
    sample_db: Database, tmp_path: Path
) -> None:
    index = _semantic_index(tmp_path)
    _ready(sample_db, index)
    first = search_papers(
        sample_db, index, parse_query("quantum error correction", mode="semantic")
    )
    top = first.hits[0].paper.arxiv_id
    hide(sample_db, top)
    catch_up(sample_db, index)
    after = search_papers(
        sample_db, index, parse_query("quantum error correction", mode="semantic")
    )
    assert after.mode == "semantic"
    assert top not in [h.paper.arxiv_id for h in after.hits]


def test_similar_papers_leave_the_paper_itself_out(sample_db: Database, tmp_path: Path) -> None:
    index = _semantic_index(tmp_path)
    _ready(sample_db, index)
    arxiv_id = _some_ids(sample_db, 1)[0]
    similar = similar_papers(sample_db, index, arxiv_id, limit=5)
    assert len(similar) == 5
    assert arxiv_id not in [s.paper.arxiv_id for s in similar]
    assert [s.similarity for s in similar] == sorted((s.similarity for s in similar), reverse=True)
    with pytest.raises(NotFound):
        similar_papers(sample_db, index, "0000.00000")


def test_past_the_exact_size_an_hnsw_graph_answers_like_exact_search(
    sample_db: Database, tmp_path: Path
) -> None:
    exact = _semantic_index(tmp_path / "exact")
    _ready(sample_db, exact)
    graph = SearchIndex(
        tmp_path / "graph",
        reopen_check_seconds=0.0,
        semantic=semantic_config(EMBEDDER, min_similarity=0.2, exact_max=100),
    )
    catch_up(sample_db, graph)
    refresh_vectors(sample_db, graph, EMBEDDER.model_id, EMBEDDER.dim, exact_max=100)
    assert graph.searcher().vectors is not None
    assert graph.searcher().vectors.uses_graph  # type: ignore[union-attr]
    query = parse_query("graph neural networks for molecules", mode="semantic", limit=10)
    exact_ids = [h.paper.arxiv_id for h in search_papers(sample_db, exact, query).hits]
    graph_ids = [h.paper.arxiv_id for h in search_papers(sample_db, graph, query).hits]
    assert len(set(exact_ids) & set(graph_ids)) >= 8


def test_a_filtered_graph_search_outside_the_query_neighbourhood_is_exact(tmp_path: Path) -> None:
    """Rows of category b lie far from the query: the graph's nearest are nearly all of a, so
    the search answers exactly over the passing rows instead of asking the graph for ever more."""
    from dailypapers.search.vector_index import VectorRow, VectorSearcher, write_vector_files

    rng = np.random.default_rng(3)
    centre_a, centre_b = rng.normal(size=32), rng.normal(size=32)
    rows = []
    for n in range(3_000):
        in_b = n % 10 == 0
        vector = (centre_b if in_b else centre_a) + rng.normal(scale=0.6, size=32)
        rows.append(
            VectorRow(
                f"2401.{n:05d}",
                (vector / np.linalg.norm(vector)).astype(np.float32),
                datetime(2024, 1, 1 + n % 28, tzinfo=UTC),
                ("b",) if in_b else ("a",),
            )
        )
    write_vector_files(tmp_path, rows, dim=32, exact_max=100)
    searcher = VectorSearcher(tmp_path)
    assert searcher.uses_graph
    query = (centre_a / np.linalg.norm(centre_a)).astype(np.float32)
    keep = searcher.mask(categories=["b"])
    assert keep is not None and keep.count == 300
    found = searcher.nearest(query, 20, keep=keep, exact_max=100)
    exact = searcher.nearest(query, 20, keep=keep, exact_max=10_000)
    assert [r for r, _ in found] == [r for r, _ in exact]
    assert all(searcher.ids[r].endswith("0") for r, _ in found)
