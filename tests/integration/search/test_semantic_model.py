"""Semantic search with the real model: fidelity to ../shared/data/minilm, the seed page's
"activation functions" search over its 29 papers plus 2,000 real ones, and a long research-need
query. The ONNX file is exported once (the export extra) into DATA_DIR/models and reused."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up, query_from_params, search_papers
from dailypapers.search.embedder import (
    MANIFEST_FILE,
    MINILM_ID,
    MODEL_FILE,
    QUANTIZED_MODEL_FILE,
    TOKENIZER_FILE,
    UNSIGNED_MODEL_FILE,
    OnnxEmbedder,
    document_text,
    has_int8_dot_products,
    has_runtime_files,
    model_dir,
    query_model_file,
)
from dailypapers.search.paper_vectors import embed_missing, import_vectors, refresh_vectors
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from tests.conftest import REPO, require
from tests.factories import EXACT_MAX_ROWS, semantic_config

pytestmark = [pytest.mark.shared, pytest.mark.slow]
SEED = "seeds/000_11bba833f93fcd9f.txt"
REAL_PAPERS = 2_000
ACTIVATION = (
    "Evolving Normalization-Activation Layers",
    "A Method on Searching Better Activation Functions",
    "ProAct: Progressive Training for Hybrid Clipped Activation Function to Enhance Resilience "
    "of DNNs",
    "Stochastic Adaptive Activation Function",
)
UNRELATED = ("Soft-NMS", "time-delay interferometry", "Quantum Lower Bounds", "Diesel Engines")
RESEARCH_NEED = (
    "I am looking for work on the nonlinearities used inside deep neural networks. Most networks "
    "still use ReLU or GELU by default, but I suspect the choice of the activation function "
    "matters for accuracy, for training stability and for robustness. I would like papers that "
    "propose new activation functions, learn or adapt the shape of the activation during "
    "training, or search automatically over a space of candidate functions built from simple "
    "mathematical operations, for example with evolutionary search or reinforcement learning. "
    "Papers that combine the activation with the normalization layer into one learned component "
    "are also relevant, as are methods that bound or clip activations so that a network keeps "
    "working when its hardware has faults or its weights are perturbed by bit flips. I care "
    "about image classification benchmarks such as CIFAR and ImageNet, and about comparisons "
    "against ReLU, Swish and other standard choices, including how the new functions behave "
    "in deeper or wider architectures, with different optimizers and learning-rate schedules. "
    "Theoretical analysis of why some nonlinearities train faster, avoid dead units or give "
    "smoother loss landscapes would help me as well, and so would ablations that swap the "
    "activation function while keeping everything else fixed. "
    "Stochastic or adaptive activations, whose parameters "
    "change per neuron or during training, are of interest too. I am not interested in papers "
    "that only use a standard activation without studying it, in object detection post-"
    "processing, or in physics."
)


@pytest.fixture(scope="session")
def minilm(shared_dir: Path) -> Path:
    """The exported model in the repository's data directory, exported on first need."""
    try:
        from dailypapers.search.model_files import ensure_exported
    except ImportError as exc:  # pragma: no cover - the export extra is missing
        require(False, f"the export extra is not installed: {exc}")
    directory = model_dir(REPO / "data")
    try:
        ensure_exported(directory)
    except Exception as exc:
        require(False, f"exporting the embedding model failed: {exc}")
    return directory


def _shared_vectors(shared_dir: Path) -> tuple[dict[str, int], np.ndarray]:
    ids = (shared_dir / "data" / "minilm" / "ids.txt").read_text().split()
    vectors = np.load(shared_dir / "data" / "minilm" / "vectors.f16.npy", mmap_mode="r")
    return {arxiv_id: row for row, arxiv_id in enumerate(ids)}, vectors


def test_the_runtime_reproduces_the_shared_vectors(minilm: Path, shared_dir: Path) -> None:
    rows, shared = _shared_vectors(shared_dir)
    with gzip.open(shared_dir / "data" / "hf_daily_papers.jsonl.gz", "rt") as source:
        records = [json.loads(line) for line in itertools.islice(source, 0, 4_000, 40)]
    texts = [document_text(r["title"], r["abstract"]) for r in records]
    documents = OnnxEmbedder(minilm).embed(texts)
    expected = np.asarray(shared[[rows[r["arxiv_id"]] for r in records]], dtype=np.float32)
    cosines = (documents * expected).sum(axis=1)
    assert cosines.min() >= 0.99
    queries = OnnxEmbedder(minilm, quantized=True).embed(texts)
    assert (queries * documents).sum(axis=1).min() >= 0.99
    # The graph for CPUs without VNNI (unsigned weights) holds on any CPU.
    unsigned = OnnxEmbedder(minilm, model_file=UNSIGNED_MODEL_FILE).embed(texts)
    assert (unsigned * documents).sum(axis=1).min() >= 0.99


def test_the_query_graph_fits_the_cpu_and_older_exports(minilm: Path, tmp_path: Path) -> None:
    picked = query_model_file(minilm)
    assert picked == (QUANTIZED_MODEL_FILE if has_int8_dot_products() else UNSIGNED_MODEL_FILE)
    older = tmp_path / "format-2"  # one 8-bit graph, unsigned, under the signed one's name
    older.mkdir()
    for name in (MODEL_FILE, QUANTIZED_MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE):
        (older / name).symlink_to(minilm / name)
    assert has_runtime_files(older)
    assert query_model_file(older) == QUANTIZED_MODEL_FILE


def seed_papers(shared_dir: Path) -> list[dict[str, object]]:
    """The seed page's 29 papers: title, blank line, abstract, then '• N authors', '·', date."""
    lines = (shared_dir / SEED).read_text(encoding="utf-8").splitlines()
    marks = [i for i, line in enumerate(lines) if re.match(r"^\s*•\s+\d+\s+authors?\s*$", line)]
    start = lines.index("Jun 10") + 1
    papers: list[dict[str, object]] = []
    for number, mark in enumerate(marks):
        body = [line.strip() for line in lines[start:mark] if line.strip()]
        papers.append(
            {
                "arxiv_id": f"2699.{number:05d}",
                "title": body[0],
                "abstract": " ".join(body[1:]),
                "authors": ["Seed Author"],
                "categories": ["cs.LG"],
                "published": "2025-06-10",
            }
        )
        start = mark + 3
    return papers


@pytest.fixture(scope="module")
def seeded(
    minilm: Path, shared_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, SearchIndex]]:
    folder = tmp_path_factory.mktemp("seeded")
    papers = seed_papers(shared_dir)
    assert len(papers) == 29
    with gzip.open(shared_dir / "data" / "arxiv_sample.jsonl.gz", "rt") as source:
        real = [json.loads(line) for line in itertools.islice(source, REAL_PAPERS)]
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(p) + "\n" for p in [*papers, *real]))
    db = open_database(f"sqlite:///{folder / 'store.sqlite3'}")
    upgrade(db)
    import_file(db, corpus, parse_in_subprocess=False)
    rows, shared = _shared_vectors(shared_dir)
    ids = [r["arxiv_id"] for r in real if r["arxiv_id"] in rows]
    np.save(folder / "v.npy", np.asarray(shared[[rows[i] for i in ids]]))
    (folder / "v.ids.txt").write_text("\n".join(ids) + "\n")
    import_vectors(
        db,
        folder / "v.npy",
        folder / "v.ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=384,
        now=datetime(2026, 9, 1, tzinfo=UTC),
    )
    assert embed_missing(db, OnnxEmbedder(minilm)).embedded == 29
    config = semantic_config(OnnxEmbedder(minilm, quantized=True))
    index = SearchIndex(folder / "index", reopen_check_seconds=0.0, semantic=config)
    catch_up(db, index)
    refresh_vectors(db, index, MINILM_ID, 384, exact_max=EXACT_MAX_ROWS)
    yield db, index
    db.dispose()


def _titles(db: Database, index: SearchIndex, params: dict[str, str]) -> list[str]:
    result = search_papers(db, index, query_from_params(params))
    assert result.mode == params.get("mode", "hybrid")
    return [hit.paper.title for hit in result.hits]


def test_activation_functions_ranks_the_seed_activation_papers_above_unrelated_ones(
    seeded: tuple[Database, SearchIndex],
) -> None:
    db, index = seeded
    titles = _titles(db, index, {"q": "activation functions", "limit": "100"})
    positions = {t: i for i, t in enumerate(titles)}
    for wanted in ACTIVATION:
        assert wanted in positions, f"{wanted!r} not found"
        for title, position in positions.items():
            if any(u.lower() in title.lower() for u in UNRELATED):
                assert positions[wanted] < position, f"{title!r} above {wanted!r}"


def test_a_long_research_need_finds_the_relevant_papers(
    seeded: tuple[Database, SearchIndex],
) -> None:
    db, index = seeded
    assert 1_400 <= len(RESEARCH_NEED) <= 2_000
    keyword = _titles(db, index, {"q": RESEARCH_NEED, "mode": "keyword"})
    assert keyword == []  # every word required: nothing has them all
    top = _titles(db, index, {"q": RESEARCH_NEED, "limit": "10"})
    assert len(set(top) & set(ACTIVATION)) >= 3
    assert not any(u.lower() in t.lower() for t in top[:5] for u in UNRELATED)


def test_a_served_worker_opens_the_query_model_before_the_first_search(
    minilm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uvicorn factory warms the query model up in the background (#18: the first semantic
    query after a start paid about 200 ms for opening it)."""
    from dailypapers.search.embedder import LazyEmbedder
    from dailypapers.store import open_database
    from dailypapers.store.migrate import upgrade
    from dailypapers.web.app import create_app_from_environment

    data = tmp_path / "data"
    (data / "models").mkdir(parents=True)
    (data / "models" / minilm.name).symlink_to(minilm)
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(data))
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "k" * 48)
    monkeypatch.delenv("DAILYPAPERS_DATABASE_URL", raising=False)
    db = open_database(f"sqlite:///{data / 'dailypapers.sqlite3'}")
    upgrade(db)
    db.dispose()
    app = create_app_from_environment()
    services = app.state.dp.services
    try:
        semantic = services.search_index.semantic
        assert semantic is not None and isinstance(semantic.embedder, LazyEmbedder)
        deadline = time.monotonic() + 30
        while semantic.embedder._opened is None:  # no search has been made
            assert time.monotonic() < deadline, "the query model was not opened within 30 s"
            time.sleep(0.05)
    finally:
        services.close()
