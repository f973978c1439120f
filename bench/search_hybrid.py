"""Hybrid search benchmark: the default search (keyword + vectors fused) over the real papers
(~120k, with the shared MiniLM vectors) and over 1M (the real papers plus synthetic variations,
each with a synthetic vector mixed from the vectors of the papers it was made of).

Two steps, so the slow preparation runs outside the exclusive CPU lock:

    python bench/search_hybrid.py prepare [--sizes real,1m]    # cached under --cache
    flock -x /work/cpu.lock python bench/search_hybrid.py run [--sizes real,1m]

`prepare` builds, per size, a SQLite store, the keyword index and the vector part of the index
(the HNSW graph build is timed) and a rotating set of distinct queries of four kinds:

- short: one to four title words;
- long: 500-2,000 characters of abstract text (a pasted abstract, a described research need);
- field: plain words plus a fielded clause or an exclusion (ti:, au:, cat:, abs:, -word);
- filtered: short or long text with a date range, categories or a minimum upvote count.

`run` times each size in a fresh serving process (so its RSS is the server's, not the builder's):
the whole `search_papers` call in hybrid mode, as /api/papers/search makes it (limit 50; the
filtered kind as the search page makes it: limit 20 with the month chart), query embedding
(int8 runtime, 2 threads), vector search, keyword side, fusion and hydration from the store
included. Every query runs once to warm, then `--passes` timed passes. It also measures HNSW
recall@10 against exact search and writes bench/results/search_hybrid.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.config import Settings
from dailypapers.domain import PaperRecord
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up, parse_query, search_papers
from dailypapers.search import vector_index as semantic
from dailypapers.search.embedder import (
    MINILM_DIM,
    MINILM_ID,
    LazyEmbedder,
    Vectors,
    default_threads,
    model_dir,
    query_model_file,
)
from dailypapers.search.paper_vectors import import_vectors, refresh_vectors
from dailypapers.search.query import Query
from dailypapers.search.vector_search import DENSE_HITS_MAX
from dailypapers.services import semantic_config
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from dailypapers.store.papers import upsert_papers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_CACHE = Path("/work/bench-cache/hybrid")
TARGETS = {"real": (20.0, 60.0), "1M": (40.0, 100.0)}  # hybrid p50 / p99 ms, issue #5
RSS_TARGET_MB = 1_536  # at the real size
KINDS = ("short", "long", "field", "filtered")
PER_KIND = 150
API_LIMIT = 50  # /api/papers/search's default page
PAGE_LIMIT = 20  # the search page's
RECALL_QUERIES = 200
BATCH = 5_000


# ---------------------------------------------------------------------------------- prepare


def store_of(folder: Path) -> Database:
    db = open_database(f"sqlite:///{folder / 'store.sqlite3'}")
    upgrade(db)
    return db


def prepare_real(shared: Path, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    db = store_of(folder)
    for name in ("arxiv_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
        import_file(db, shared / "data" / name)
    minilm = shared / "data" / "minilm"
    import_vectors(
        db,
        minilm / "vectors.f16.npy",
        minilm / "ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=MINILM_DIM,
        now=datetime.now(UTC),
    )
    info = build_index(db, folder)
    db.dispose()
    return info


def build_index(db: Database, folder: Path) -> dict[str, Any]:
    index = SearchIndex(folder / "index", reopen_check_seconds=0.0)
    started = time.perf_counter()
    catch_up(db, index)
    keyword_s = time.perf_counter() - started
    load = os.getloadavg()[0]
    graph_s: list[float] = []
    started = time.perf_counter()
    with _timing_graph_builds(graph_s):
        report = refresh_vectors(
            db, index, MINILM_ID, MINILM_DIM, exact_max=Settings().search_exact_max_rows, force=True
        )
    vector_s = time.perf_counter() - started
    opened = index.searcher()
    assert opened.vectors is not None and opened.vectors.uses_graph
    seconds = sum(graph_s)
    return {
        "papers": report.rows,
        "keyword_index_s": round(keyword_s, 1),
        "vector_files_s": round(vector_s, 1),
        "hnsw_build_s": round(seconds, 1),
        "load_average_during_build": round(load, 2),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@contextmanager
def _timing_graph_builds(seconds: list[float]) -> Iterator[None]:
    """Record how long each HNSW graph build inside the block takes (the graph alone)."""
    from dailypapers.search import vector_index as semantic

    original = semantic._build_hnsw

    def timed(path: Path, matrix: Any) -> None:
        began = time.perf_counter()
        original(path, matrix)
        seconds.append(time.perf_counter() - began)

    semantic._build_hnsw = timed  # type: ignore[assignment]
    try:
        yield
    finally:
        semantic._build_hnsw = original  # type: ignore[assignment]


def hnsw_build_seconds(index: SearchIndex) -> float:
    """Rebuild the graph of the current generation from its vectors into a scratch file: the
    graph build alone (the vector files are written by refresh_vectors around it)."""
    from dailypapers.search import vector_index as semantic

    folder = index.generation_dir(index.searcher().generation) / "vector"
    matrix = np.load(folder / "vectors.npy", mmap_mode="r").astype(np.float32)
    scratch = folder.parent / "hnsw-timing.usearch"
    started = time.perf_counter()
    semantic._build_hnsw(scratch, matrix)
    seconds = time.perf_counter() - started
    scratch.unlink()
    return seconds


def prepare_1m(real: Path, folder: Path, target: int, seed: int = 7) -> dict[str, Any]:
    """The real store plus synthetic variations up to `target` papers. Each takes a real paper's
    categories, another's title words, sentences of two abstracts, authors of two papers and a
    day in 2019-2026 (bench/search.py's recipe); its vector mixes those papers' vectors."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real / "store.sqlite3", folder / "store.sqlite3")
    db = store_of(folder)
    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT p.arxiv_id, title, abstract, authors, categories, vector FROM papers p "
            "JOIN paper_vectors v ON v.arxiv_id = p.arxiv_id ORDER BY p.arxiv_id"
        ).all()
    real_vectors = np.vstack([np.frombuffer(r[5], dtype="<f2") for r in rows]).astype(np.float32)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    ids: list[str] = []
    vectors = np.zeros((target - len(rows), MINILM_DIM), dtype=np.float16)
    batch: list[PaperRecord] = []
    for n in range(target - len(rows)):
        ia, ib, ic = (rng.randrange(len(rows)) for _ in range(3))
        a, b, c = rows[ia], rows[ib], rows[ic]
        words = (a[1] + " " + b[1]).split()
        rng.shuffle(words)
        sentences = (re.split(r"(?<=\.) ", b[2]) + re.split(r"(?<=\.) ", c[2]))[:8]
        rng.shuffle(sentences)
        arxiv_id = f"{3000 + n // 90_000}.{n % 90_000 + 10_000:05d}"
        ids.append(arxiv_id)
        batch.append(
            PaperRecord(
                arxiv_id=arxiv_id,
                title=" ".join(words[: rng.randint(6, 14)]),
                abstract=" ".join(sentences),
                authors=tuple(json.loads(b[3])[:3] + json.loads(c[3])[:3]),
                version=1,
                published_at=start + timedelta(days=rng.randrange(2_800)),
                categories=tuple(a[4].split()),
            )
        )
        mixed = 0.3 * real_vectors[ia] + real_vectors[ib] + real_vectors[ic]
        mixed += noise.normal(0.0, 0.03, MINILM_DIM).astype(np.float32)
        vectors[n] = mixed / np.linalg.norm(mixed)
        if len(batch) == BATCH:
            _write(db, batch)
            batch = []
    if batch:
        _write(db, batch)
    np.save(folder / "synthetic.npy", vectors)
    (folder / "synthetic.ids.txt").write_text("\n".join(ids) + "\n")
    import_vectors(
        db,
        folder / "synthetic.npy",
        folder / "synthetic.ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=MINILM_DIM,
        now=datetime.now(UTC),
    )
    (folder / "synthetic.npy").unlink()
    info = build_index(db, folder)
    db.dispose()
    return info


def _write(db: Database, batch: list[PaperRecord]) -> None:
    with db.write() as conn:
        upsert_papers(conn, batch, now=datetime.now(UTC))


def make_queries(db: Database, seed: int = 11) -> list[dict[str, Any]]:
    """PER_KIND distinct queries of each kind, drawn from the corpus (as JSON-able dicts)."""
    rng = random.Random(seed)
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT title, abstract, authors, categories, published_at FROM papers "
            "ORDER BY random() LIMIT 20000"
        ).all()
        voted = conn.exec_driver_sql("SELECT count(*) FROM featured").scalar_one()
    titles = [re.findall(r"[A-Za-z][A-Za-z-]{3,}", r[0]) for r in rows]
    words = [w.lower() for t in titles for w in t if len(w) >= 5]
    surnames = [n.split()[-1] for r in rows for n in json.loads(r[2]) if n.split()]
    categories = [c for r in rows for c in r[3].split()]

    def short() -> str:
        title = rng.choice([t for t in (rng.choice(titles) for _ in range(5)) if t] or [["model"]])
        if rng.random() < 0.5:
            size = rng.randint(1, min(4, len(title)))
            first = rng.randrange(len(title) - size + 1)
            return " ".join(title[first : first + size]).lower()
        return " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))

    def long() -> str:
        length = rng.randint(500, 2_000)
        text = ""
        while len(text) < length:
            abstract = rng.choice(rows)[1]
            sentences = re.split(r"(?<=[.!?])\s+", abstract)
            text = (text + " " + " ".join(sentences[rng.randrange(len(sentences)) :])).strip()
        cut = text.rfind(" ", 0, length)
        return text[: cut if cut > 0 else length]

    def field(n: int) -> str:
        word = rng.choice(words)
        return [
            f"ti:{word} {short()}",
            f"au:{rng.choice(surnames)} {short()}",
            f"cat:{rng.choice(categories)} {short()}",
            f'abs:"{short()}" {rng.choice(words)}',
            f"{short()} -{rng.choice(words)}",
        ][n % 5]

    def day(value: Any) -> date:
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
        return value.date() if isinstance(value, datetime) else date(2025, 6, 1)

    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for kind in KINDS:
        made = 0
        while made < PER_KIND:
            spec: dict[str, Any] = {"kind": kind}
            if kind == "short":
                spec["q"] = short()
            elif kind == "long":
                spec["q"] = long()
            elif kind == "field":
                spec["q"] = field(made)
            else:
                spec["q"] = long() if made % 3 == 2 else short()
                which = made % 4
                if which in (0, 3):
                    middle = day(rng.choice(rows)[4])
                    spec["from"] = (middle - timedelta(days=45)).isoformat()
                    spec["to"] = (middle + timedelta(days=45)).isoformat()
                if which in (1, 3):
                    spec["cat"] = [rng.choice(categories)]
                if which == 2:
                    spec["min_upvotes"] = 5 if voted else None
            key = json.dumps(spec, sort_keys=True)
            if key in seen or not spec["q"]:
                continue
            seen.add(key)
            out.append(spec)
            made += 1
    return out


def to_query(spec: dict[str, Any]) -> tuple[Query, bool]:
    """The Query /api/papers/search (or, for filters, the search page) would make; with_months."""
    if spec["kind"] != "filtered":
        return parse_query(spec["q"], limit=API_LIMIT), False
    query = parse_query(
        spec["q"],
        limit=PAGE_LIMIT,
        date_from=date.fromisoformat(spec["from"]) if spec.get("from") else None,
        date_to=date.fromisoformat(spec["to"]) if spec.get("to") else None,
        categories=spec.get("cat") or (),
        min_upvotes=spec.get("min_upvotes"),
    )
    return query, True


def prepare(args: argparse.Namespace) -> None:
    runtime = model_dir(ROOT / "data")
    from dailypapers.search.model_files import ensure_exported

    ensure_exported(runtime)
    for size in args.sizes.split(","):
        folder = args.cache / size
        if (folder / "prepared.json").is_file() and args.vectors_only:
            db = store_of(folder)
            info = {**json.loads((folder / "prepared.json").read_text()), **build_index(db, folder)}
            db.dispose()
            (folder / "prepared.json").write_text(json.dumps(info, indent=1))
            print(f"{size}: {json.dumps(info)}", flush=True)
            continue
        if (folder / "prepared.json").is_file() and not args.force:
            print(f"{size}: cached in {folder}", flush=True)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        if size == "real":
            info = prepare_real(args.shared, folder)
        else:
            if not (args.cache / "real" / "prepared.json").is_file():
                raise SystemExit("prepare the real size first")
            info = prepare_1m(args.cache / "real", folder, 1_000_000)
        db = store_of(folder)
        (folder / "queries.json").write_text(json.dumps(make_queries(db)))
        db.dispose()
        info["prepare_s"] = round(time.perf_counter() - started, 1)
        (folder / "prepared.json").write_text(json.dumps(info, indent=1))
        print(f"{size}: {json.dumps(info)}", flush=True)


# -------------------------------------------------------------------------------------- run


class TimedEmbedder:
    """The serving runtime, recording how long each embedding took."""

    def __init__(self, lazy: LazyEmbedder) -> None:
        runtime = lazy.get()
        if runtime is None:
            raise SystemExit("no exported model: run `prepare` first")
        self._runtime = runtime
        self.last_ms = 0.0

    @property
    def model_id(self) -> str:
        return self._runtime.model_id

    @property
    def dim(self) -> int:
        return self._runtime.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        started = time.perf_counter()
        out = self._runtime.embed(texts)
        self.last_ms = (time.perf_counter() - started) * 1_000
        return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {}
    return {
        "p50": round(statistics.median(ordered), 2),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "mean": round(statistics.fmean(ordered), 2),
        "max": round(ordered[-1], 2),
    }


def rss_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text()
    current = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
    peak = int(re.search(r"VmHWM:\s+(\d+)", status)[1])  # type: ignore[index]
    return current / 1024, peak / 1024


def serve(folder: Path, passes: int) -> dict[str, Any]:
    """Runs in a fresh process: open the store and the index as a server does, then time."""
    started = time.perf_counter()
    db = open_database(f"sqlite:///{folder / 'store.sqlite3'}")
    embedder = TimedEmbedder(LazyEmbedder(model_dir(ROOT / "data"), threads=default_threads()))
    index = SearchIndex(
        folder / "index", semantic=replace(semantic_config(Settings()), embedder=embedder)
    )
    opened = index.searcher()
    specs = json.loads((folder / "queries.json").read_text())
    queries = [(spec["kind"], *to_query(spec)) for spec in specs]
    search_papers(db, index, queries[0][1])
    ready_s = time.perf_counter() - started
    total: dict[str, list[float]] = {kind: [] for kind in KINDS}
    embed: dict[str, list[float]] = {kind: [] for kind in KINDS}
    modes: dict[str, int] = {}
    for run in range(passes + 1):
        for kind, query, with_months in queries:
            embedder.last_ms = 0.0
            began = time.perf_counter()
            result = search_papers(db, index, query, with_months=with_months)
            elapsed = (time.perf_counter() - began) * 1_000
            if run:
                total[kind].append(elapsed)
                embed[kind].append(embedder.last_ms)
                modes[result.mode] = modes.get(result.mode, 0) + 1
    rss, peak = rss_mb()
    everything = [t for kind in KINDS for t in total[kind]]
    return {
        "papers": opened.vectors.rows if opened.vectors else 0,
        "queries": len(queries),
        "timed": len(everything),
        "ready_s": round(ready_s, 2),
        "hybrid_ms": percentiles(everything),
        "per_kind_ms": {kind: percentiles(total[kind]) for kind in KINDS},
        "embedding_ms": {kind: percentiles(embed[kind]) for kind in KINDS},
        "modes": modes,
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "recall": hnsw_recall(index, embedder, [q for _, q, _ in queries]),
    }


def hnsw_recall(index: SearchIndex, embedder: TimedEmbedder, queries: list[Query]) -> Any:
    """Recall of the vector search against exact search over float32 rows, with its latency.

    unfiltered: the graph's top 10 (k=10) and the dense pool hybrid asks for (k=100, top 10 and
    top 100 scored); filtered: the filtered kind's date and category masks through the serving
    path (exact where that reads fewer rows than the graph would visit, else the graph, and
    exact again when too few of its answers pass).
    """
    opened = index.searcher()
    vectors = opened.vectors
    assert vectors is not None and vectors.uses_graph
    exact_max = index.semantic.exact_max if index.semantic else 0
    matrix = np.asarray(np.load(_vector_file(index), mmap_mode="r"), dtype=np.float32)
    picked = queries[:: max(1, len(queries) // RECALL_QUERIES)][:RECALL_QUERIES]
    filtered = [q for q in queries if q.date_from or q.categories][:RECALL_QUERIES]
    out: dict[str, Any] = {}
    for label, k, chosen in (
        ("unfiltered", 10, picked),
        ("unfiltered_k100", DENSE_HITS_MAX, picked),
        ("filtered", 10, filtered),
    ):
        at10, at_k, graph_ms, through_graph = [], [], [], 0
        for query in chosen:
            vector = embedder.embed([query.semantic_text or query.text or "paper"])[0]
            keep = None
            if label == "filtered":
                keep = vectors.mask(
                    date_from=query.date_from, date_to=query.date_to, categories=query.categories
                )
            began = time.perf_counter()
            found = vectors.nearest(
                vector, k, keep=keep, exact_max=exact_max if label == "filtered" else 0
            )
            graph_ms.append((time.perf_counter() - began) * 1_000)
            through_graph += vectors.graph_answers(k, keep, exact_max)
            sims = matrix @ vector
            if keep is not None:
                passing = np.zeros(len(sims), dtype=bool)
                passing[keep.rows()] = True
                sims[~passing] = -np.inf
            ranked = np.argsort(-sims)[:k]
            exact = [int(r) for r in ranked if np.isfinite(sims[r])]
            if exact:
                rows = [r for r, _ in found]
                at10.append(len(set(rows[:10]) & set(exact[:10])) / min(10, len(exact)))
                at_k.append(len(set(rows) & set(exact)) / len(exact))
        out[label] = {
            "queries": len(at10),
            "through_graph": through_graph,
            "recall_at_10": round(statistics.fmean(at10), 4) if at10 else None,
            f"recall_at_{k}": round(statistics.fmean(at_k), 4) if at_k else None,
            "graph_ms": percentiles(graph_ms),
        }
    return out


def _vector_file(index: SearchIndex) -> Path:
    return index.generation_dir(index.searcher().generation) / "vector" / "vectors.npy"


def run(args: argparse.Namespace) -> None:
    rows = []
    for size in args.sizes.split(","):
        folder = args.cache / size
        if not (folder / "prepared.json").is_file():
            raise SystemExit(f"{size} is not prepared: run `{sys.argv[0]} prepare` first")
        child = subprocess.run(
            [sys.executable, __file__, "serve", str(folder), "--passes", str(args.passes)],
            check=True,
            capture_output=True,
            text=True,
        )
        row = {
            "corpus": "real" if size == "real" else "1M",
            **json.loads(child.stdout.strip().splitlines()[-1]),
            "build": json.loads((folder / "prepared.json").read_text()),
        }
        if args.time_build:  # the graph build again, now under the lock
            index = SearchIndex(folder / "index")
            row["build"]["hnsw_build_s"] = round(hnsw_build_seconds(index), 1)
            row["build"]["hnsw_build_timed"] = "under the lock"
        print(json.dumps(row), flush=True)
        rows.append(row)
    write_results(rows, args.passes)


def write_results(rows: list[dict[str, Any]], passes: int) -> None:
    query_model = query_model_file(model_dir(ROOT / "data"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "targets": {
            "real": {"p50_ms": TARGETS["real"][0], "p99_ms": TARGETS["real"][1]},
            "1M": {"p50_ms": TARGETS["1M"][0], "p99_ms": TARGETS["1M"][1]},
            "rss_mb_real": RSS_TARGET_MB,
        },
        "passes": passes,
        "load_average": round(os.getloadavg()[0], 2),
    }
    (RESULTS / "search_hybrid.json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Search benchmark (hybrid)",
        "",
        f"{meta['when']}, {meta['machine']}; `python bench/search_hybrid.py run` "
        f"(load average {meta['load_average']} when it ended). Warm, in a fresh serving "
        f"process: {PER_KIND} distinct queries per "
        f"kind, each timed {passes}x after a warm-up pass; the whole `search_papers` call in "
        f"hybrid mode (query embedding with {query_model} on {default_threads()} threads, "
        f"vector and keyword search, fusion, papers from the store, snippets). short/long/field as "
        f"/api/papers/search asks (limit {API_LIMIT}); filtered as the search page (limit "
        f"{PAGE_LIMIT} and the month chart). Targets: p50 <= 20 / p99 <= 60 ms at the real size, "
        "40 / 100 ms at 1M; RSS <= 1.5 GB at the real size.",
        "",
        "| corpus | papers | timed | hybrid p50 / p99 ms | short | long | field | filtered | "
        "RSS MB (peak) | ready s | HNSW build s | HNSW recall@10 (@100) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k = r["per_kind_ms"]
        rec = r["recall"]
        lines.append(
            f"| {r['corpus']} | {r['papers']:,} | {r['timed']} | "
            f"**{r['hybrid_ms']['p50']} / {r['hybrid_ms']['p99']}** | "
            + " | ".join(f"{k[kind]['p50']} / {k[kind]['p99']}" for kind in KINDS)
            + f" | {r['rss_mb']} ({r['peak_rss_mb']}) | {r['ready_s']} | "
            f"{r['build']['hnsw_build_s']} | {rec['unfiltered']['recall_at_10']} "
            f"({rec['unfiltered_k100']['recall_at_100']}) |"
        )
    lines += [
        "",
        "Query embedding alone (p50 / p99 ms), included above:",
        "",
        "| corpus | " + " | ".join(KINDS) + " |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        e = r["embedding_ms"]
        lines.append(
            f"| {r['corpus']} | "
            + " | ".join(f"{e[kind]['p50']} / {e[kind]['p99']}" for kind in KINDS)
            + " |"
        )
    lines += [
        "",
        "HNSW build: the usearch graph alone (f16, connectivity "
        f"{semantic.HNSW_CONNECTIVITY}, expansion {semantic.HNSW_EXPANSION_ADD}, all cores), "
        "timed under the lock with `--time-build`, else while preparing (the load average then "
        "is in the JSON). Recall against exact search over float32 rows, "
        f"{RECALL_QUERIES} of the queries: the graph's top 10 (search expansion "
        f"{semantic.HNSW_EXPANSION_SEARCH}); in brackets its top 100 as hybrid's dense side asks "
        "(recall@100); filtered = the filtered kind's date and category masks through the "
        "serving path (exact where that costs less than the graph search, else the graph).",
        "",
        "| corpus | graph top 10: recall@10, ms p50/p99 | top 100: recall@100, ms p50/p99 | "
        "filtered (through the graph): recall@10, ms p50/p99 |",
        "|---|---|---|---|",
    ]
    for r in rows:
        rec = r["recall"]
        u, h, f = rec["unfiltered"], rec["unfiltered_k100"], rec["filtered"]
        lines.append(
            f"| {r['corpus']} | {u['recall_at_10']}, {u['graph_ms']['p50']} / "
            f"{u['graph_ms']['p99']} | {h['recall_at_100']}, {h['graph_ms']['p50']} / "
            f"{h['graph_ms']['p99']} | ({f['through_graph']} of {f['queries']}) "
            f"{f['recall_at_10']}, {f['graph_ms']['p50']} / {f['graph_ms']['p99']} |"
        )
    (RESULTS / "search_hybrid.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("prepare", "run", "serve"))
    parser.add_argument("folder", nargs="?", type=Path)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--sizes", default="real,1m")
    parser.add_argument("--passes", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="prepare again even if cached")
    parser.add_argument("--time-build", action="store_true", help="time the HNSW build in `run`")
    parser.add_argument(
        "--vectors-only", action="store_true", help="rebuild only the vector part of the index"
    )
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args)
    elif args.step == "run":
        run(args)
    else:
        print(json.dumps(serve(args.folder, args.passes)), flush=True)


if __name__ == "__main__":
    main()
