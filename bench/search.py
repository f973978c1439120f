"""Keyword search benchmark: the tantivy index over the real papers (~120k) and over 1M (the real
papers plus synthetic variations of them), against SQLite FTS5 on the same queries.

For each size: rebuild the index from a SQLite store (timed), then time a rotating set of >= 500
distinct queries (short words, fields, filters), warm and in-process ("server side"):

- keyword: the keyword engine alone (top 20 + total; min-upvote queries include reading the
  store's upvoted papers);
- search_papers: the whole service call /api/papers/search makes in keyword mode (the engine,
  live upvote counts joined from the store, the papers read from the store, snippets): the figure
  the target is about;
- page: the same with the matches-per-month chart, as the search page asks;
- FTS5: SQLite FTS5 (porter) top 20 by bm25 + total, same queries.

Each query runs once to warm, then --passes timed passes; figures are per kind and overall.
Stores (and FTS5 databases) are cached under --cache, so the slow preparation runs once and
outside the CPU lock; with --lock, each timed phase holds that file's exclusive lock.
Writes bench/results/search.json and search.md.

    python bench/search.py prepare [--cache DIR]                       # stores, outside the lock
    python bench/search.py run [--cache DIR] [--lock /work/cpu.lock] [--sizes real,1m]

The hybrid part (issue #5) is bench/search_hybrid.py; `python bench/search.py hybrid ARGS...`
runs it with those arguments (e.g. `hybrid prepare`, `hybrid run --sizes real`).
"""

from __future__ import annotations

import argparse
import fcntl
import gc
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dailypapers.domain import PaperRecord
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, parse_query, rebuild, search_papers
from dailypapers.search.query import Query
from dailypapers.store import Database, open_database
from dailypapers.store.changes import list_upvoted_ids
from dailypapers.store.migrate import upgrade
from dailypapers.store.papers import upsert_papers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_P50_MS, TARGET_P99_MS = 5.0, 20.0  # keyword queries at 1M, issue #4
PAGE = 20
BATCH = 5_000
SIZES = {"real": None, "1m": 1_000_000}
# The query kinds, in rotation: four of one to three plain words, then one of each other kind.
KINDS = (
    "words",
    "words",
    "words",
    "words",
    "ti:",
    "au:",
    "cat: + word",
    "word + dates",
    "word + category",
    "word + min upvotes",
)


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process."""
    status = Path("/proc/self/status").read_text()
    current = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
    peak = int(re.search(r"VmHWM:\s+(\d+)", status)[1])  # type: ignore[index]
    return current / 1024, peak / 1024


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "max": round(ordered[-1], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


@contextmanager
def exclusive(lock: Path | None, phase: str, log: dict[str, Any]) -> Iterator[None]:
    """Hold `lock` exclusively (other helpers' tests take it shared) for one timed phase, and
    note the machine's load around it."""
    if lock is None:
        yield
        log[phase] = {"load_before": os.getloadavg()[0], "load_after": os.getloadavg()[0]}
        return
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        before = os.getloadavg()[0]
        try:
            yield
        finally:
            log[phase] = {"load_before": round(before, 2), "load_after": os.getloadavg()[0]}
            fcntl.flock(handle, fcntl.LOCK_UN)


def synthetic(db: Database, target: int, seed: int = 7) -> int:
    """Add variations of the real papers until the store holds `target`: each takes a real
    paper's categories, another's title words, sentences of two abstracts, authors of two
    papers and a random day in 2019-2026, so the vocabulary stays real."""
    rng = random.Random(seed)
    with db.read() as conn:
        rows = conn.exec_driver_sql("SELECT title, abstract, authors, categories FROM papers").all()
    real = len(rows)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    made = 0
    batch: list[PaperRecord] = []
    for n in range(target - real):
        a, b, c = rng.choice(rows), rng.choice(rows), rng.choice(rows)
        words = (a[0] + " " + b[0]).split()
        rng.shuffle(words)
        sentences = (re.split(r"(?<=\.) ", b[1]) + re.split(r"(?<=\.) ", c[1]))[:8]
        rng.shuffle(sentences)
        batch.append(
            PaperRecord(
                arxiv_id=f"{3000 + n // 90_000}.{n % 90_000 + 10_000:05d}",
                title=" ".join(words[: rng.randint(6, 14)]),
                abstract=" ".join(sentences),
                authors=tuple(json.loads(b[2])[:3] + json.loads(c[2])[:3]),
                version=1,
                published_at=start + timedelta(days=rng.randrange(2_800)),
                categories=tuple(a[3].split()),
            )
        )
        if len(batch) == BATCH:
            made += _write(db, batch)
            batch = []
    return made + (_write(db, batch) if batch else 0)


def _write(db: Database, batch: list[PaperRecord]) -> int:
    with db.write() as conn:
        return upsert_papers(conn, batch, now=datetime.now(UTC)).papers_changed


def prepare(cache: Path, shared: Path, sizes: list[str]) -> dict[str, Path]:
    """The SQLite store of each size, made once: the real papers, then a copy grown to 1M."""
    cache.mkdir(parents=True, exist_ok=True)
    stores: dict[str, Path] = {}
    real = cache / "store-real.sqlite3"
    if not (cache / "store-real.done").exists():
        real.unlink(missing_ok=True)
        db = open_database(f"sqlite:///{real}")
        upgrade(db)
        for name in ("arxiv_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
            import_file(db, shared / "data" / name)
        db.dispose()
        (cache / "store-real.done").touch()
    stores["real"] = real
    for size, target in SIZES.items():
        if target is None or size not in sizes:
            continue
        path = cache / f"store-{size}.sqlite3"
        if not (cache / f"store-{size}.done").exists():
            path.unlink(missing_ok=True)
            shutil.copyfile(real, path)
            db = open_database(f"sqlite:///{path}")
            synthetic(db, target)
            db.dispose()
            (cache / f"store-{size}.done").touch()
        stores[size] = path
    for path in stores.values():  # a cached store from an older schema catches up
        db = open_database(f"sqlite:///{path}")
        upgrade(db)
        db.dispose()
    return stores


def make_queries(db: Database, count: int = 600, seed: int = 3) -> list[tuple[str, Query]]:
    """Distinct (kind, query) pairs drawn from the corpus (a seeded sample of its papers, so
    every run times the same queries): short words, fields, and filtered ones."""
    rng = random.Random(seed)
    with db.read() as conn:
        last = conn.exec_driver_sql("SELECT max(rowid) FROM papers").scalar_one()
        sample = sorted(rng.sample(range(1, last + 1), min(20_000, last)))
        rows = conn.exec_driver_sql(
            "SELECT title, authors, categories FROM papers WHERE rowid IN "
            f"({','.join(map(str, sample))}) ORDER BY rowid"
        ).all()
        voted = conn.exec_driver_sql("SELECT count(*) FROM featured").scalar_one()
    words = [w for r in rows for w in re.findall(r"[A-Za-z]{5,}", r[0]) if w.isalpha()]
    surnames = [n.split()[-1] for r in rows for n in json.loads(r[1]) if n.split()]
    categories = [c for r in rows for c in r[2].split()]
    seen: set[tuple[object, ...]] = set()
    queries: list[tuple[str, Query]] = []
    while len(queries) < count:
        kind = KINDS[len(queries) % len(KINDS)]
        word = rng.choice(words).lower()
        if kind == "words":
            text = " ".join(rng.choice(words).lower() for _ in range(rng.randint(1, 3)))
            query = parse_query(text, mode="keyword")
        elif kind == "ti:":
            query = parse_query(f"ti:{word}", mode="keyword")
        elif kind == "au:":
            query = parse_query(f"au:{rng.choice(surnames)}", mode="keyword")
        elif kind == "cat: + word":
            query = parse_query(f"cat:{rng.choice(categories)} {word}", mode="keyword")
        elif kind == "word + dates":
            first = date(2019, 1, 1) + timedelta(days=rng.randrange(2_700))
            query = parse_query(
                word, date_from=first, date_to=first + timedelta(days=90), mode="keyword"
            )
        elif kind == "word + category":
            query = parse_query(word, categories=[rng.choice(categories)], mode="keyword")
        elif voted:
            query = parse_query(word, min_upvotes=5, mode="keyword")
        else:
            query = parse_query(f"abs:{word}", mode="keyword")
        key = (query.text, query.date_from, query.categories, query.min_upvotes)
        if key not in seen:
            seen.add(key)
            queries.append((kind, query))
    return queries


def build_fts(store_path: Path, fts_path: Path) -> float:
    started = time.perf_counter()
    fts_path.unlink(missing_ok=True)
    fts = sqlite3.connect(fts_path)
    fts.execute("PRAGMA journal_mode=OFF")
    fts.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(arxiv_id UNINDEXED, title, abstract, authors, "
        "categories, published UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
    )
    store = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    rows = store.execute(
        "SELECT arxiv_id, title, abstract, authors, categories, published_at FROM papers "
        "WHERE NOT hidden"
    )
    while chunk := rows.fetchmany(BATCH):
        fts.executemany(
            "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)",
            [(i, t, a, " ".join(json.loads(au)), c, p) for i, t, a, au, c, p in chunk],
        )
    fts.execute("INSERT INTO docs(docs) VALUES ('optimize')")
    fts.commit()
    fts.close()
    store.close()
    return time.perf_counter() - started


def fts_sql(query: Query) -> tuple[str, list[Any]] | None:
    """The same query for FTS5: every word required, fields as column filters, filters in SQL."""
    columns = {"ti": "title", "abs": "abstract", "au": "authors", "cat": "categories"}
    parts = []
    for clause in query.wanted:
        tokens = re.findall(r"\w+", clause.text.lower())
        if not tokens:
            continue
        phrase = '"' + " ".join(tokens) + '"'
        parts.append(f"{columns[clause.field]} : {phrase}" if clause.field in columns else phrase)
    if not parts:
        return None
    where: list[str] = ["docs MATCH ?"]
    params: list[Any] = [" AND ".join(parts)]
    if query.date_from and query.date_to:
        where.append("published >= ? AND published < ?")
        params += [query.date_from.isoformat(), (query.date_to + timedelta(days=1)).isoformat()]
    if query.categories:
        where.append("(' ' || categories || ' ') LIKE ?")
        params.append(f"% {query.categories[0]} %")
    if query.min_upvotes:
        where.append(
            "arxiv_id IN (SELECT arxiv_id FROM store.featured WHERE upvotes_baseline >= ?)"
        )
        params.append(query.min_upvotes)
    return " AND ".join(where), params


def time_fts(fts_path: Path, store_path: Path, queries: list[Query], passes: int) -> list[float]:
    conn = sqlite3.connect(fts_path)
    conn.execute(f"ATTACH DATABASE 'file:{store_path}?mode=ro' AS store")
    compiled = [c for q in queries if (c := fts_sql(q)) is not None]
    samples: list[float] = []
    for run in range(passes + 1):
        for where, params in compiled:
            started = time.perf_counter()
            conn.execute(
                f"SELECT arxiv_id FROM docs WHERE {where} "
                "ORDER BY bm25(docs, 0, 3.0, 1.0, 2.0, 0.5) LIMIT ?",
                [*params, PAGE],
            ).fetchall()
            conn.execute(f"SELECT count(*) FROM docs WHERE {where}", params).fetchone()
            if run:  # the first pass warms the page cache
                samples.append((time.perf_counter() - started) * 1_000)
    conn.close()
    return samples


def time_tantivy(
    db: Database, index: SearchIndex, queries: list[tuple[str, Query]], passes: int
) -> dict[str, dict[str, list[float]]]:
    """Samples per path ("keyword", "search_papers", "page") and kind, in milliseconds."""
    samples: dict[str, dict[str, list[float]]] = {
        path: {kind: [] for kind in KINDS} for path in ("keyword", "search_papers", "page")
    }
    keyword = index.searcher().keyword
    for run in range(passes + 1):
        for kind, query in queries:
            started = time.perf_counter()
            only_ids = None
            if query.min_upvotes:  # the store's upvoted papers are part of the engine's work
                with db.read() as conn:
                    only_ids = list_upvoted_ids(conn, at_least=query.min_upvotes)
            keyword.search(query, order="relevance", limit=PAGE, only_ids=only_ids)
            engine = (time.perf_counter() - started) * 1_000
            started = time.perf_counter()
            search_papers(db, index, query)
            service = (time.perf_counter() - started) * 1_000
            started = time.perf_counter()
            search_papers(db, index, query, with_months=True)
            page = (time.perf_counter() - started) * 1_000
            if run:
                samples["keyword"][kind].append(engine)
                samples["search_papers"][kind].append(service)
                samples["page"][kind].append(page)
    return samples


def measure(
    label: str,
    store_path: Path,
    folder: Path,
    passes: int,
    lock: Path | None,
    fts_passes: int,
) -> dict[str, Any]:
    db = open_database(f"sqlite:///{store_path}")
    with db.read() as conn:
        papers = conn.exec_driver_sql("SELECT count(*) FROM papers").scalar_one()
    loads: dict[str, Any] = {}
    index_dir = folder / f"index-{label}"
    shutil.rmtree(index_dir, ignore_errors=True)
    index = SearchIndex(index_dir)
    with exclusive(lock, "build", loads):
        report = rebuild(db, index)
    queries = make_queries(db)
    gc.collect()
    with exclusive(lock, "queries", loads):
        samples = time_tantivy(db, index, queries, passes)
    rss, peak = rss_mb()
    row: dict[str, Any] = {
        "corpus": label,
        "papers": papers,
        "queries": len(queries),
        "passes": passes,
        "fts5_passes": fts_passes,
        "index_build_s": round(report.seconds, 1),
        "index_mb": round(index.disk_bytes() / 2**20, 1),
        "segments": index.searcher().keyword.num_segments,
        "rss_mb_after_queries": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
    }
    for path, per_kind in samples.items():
        row[f"{path}_ms"] = percentiles([v for values in per_kind.values() for v in values])
        row[f"{path}_ms_by_kind"] = {k: percentiles(v) for k, v in per_kind.items() if v}
        # Each query's median over the passes: what the query costs, less the shared machine's
        # scheduling noise.
        row[f"{path}_ms_query_medians"] = percentiles(
            [m for values in per_kind.values() for m in _query_medians(values, passes)]
        )
    if fts_passes:
        fts_path = folder / f"fts-{label}.sqlite3"
        built = folder / f"fts-{label}.json"
        if not built.exists() or not fts_path.exists():
            with exclusive(lock, "fts_build", loads):
                seconds = build_fts(store_path, fts_path)
            built.write_text(json.dumps({"build_s": seconds}))
        with exclusive(lock, "fts_queries", loads):
            fts_samples = time_fts(fts_path, store_path, [q for _, q in queries], fts_passes)
        row["fts5_build_s"] = round(json.loads(built.read_text())["build_s"], 1)
        row["fts5_mb"] = round(fts_path.stat().st_size / 2**20, 1)
        row["fts5_ms"] = percentiles(fts_samples)
        for p in ("p50", "p99"):
            row[f"fts5_over_keyword_{p}"] = round(row["fts5_ms"][p] / row["keyword_ms"][p], 1)
            row[f"fts5_over_search_papers_{p}"] = round(
                row["fts5_ms"][p] / row["search_papers_ms"][p], 1
            )
    row["load_average"] = loads
    print(json.dumps(row), flush=True)
    db.dispose()
    return row


def _query_medians(samples: list[float], passes: int) -> list[float]:
    """Samples are pass after pass over the same queries: each query's median."""
    count = len(samples) // passes
    return [statistics.median(samples[i::count]) for i in range(count)]


def write_results(rows: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "target": {"p50_ms": TARGET_P50_MS, "p99_ms": TARGET_P99_MS, "at": "1M keyword"},
    }
    (RESULTS / "search.json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
    lines = [
        "# Search benchmark (keyword)",
        "",
        f"{meta['when']}, {meta['machine']}, SQLite {meta['sqlite']}. Warm, in-process; each "
        f"of the distinct queries timed {rows[0]['passes']}x after a warm-up pass, each timed "
        "phase under the exclusive CPU lock (the machine is shared: load averages in the "
        "JSON). keyword = the tantivy engine (top 20 + total; min-upvote queries include "
        "reading the store's upvoted papers); search_papers = the whole service call "
        "/api/papers/search makes in keyword mode (plus live upvote joins, the papers from the "
        "store and snippets); page = the same with the matches-per-month chart; FTS5 = SQLite "
        "FTS5 (porter) top 20 by bm25 + total, same queries, timed "
        f"{rows[0].get('fts5_passes', 0)}x after a warm-up pass. In brackets: p50 / p99 of "
        "each query's median over the passes (less the shared machine's noise). Target at 1M: "
        "keyword p50 <= 5 ms, p99 <= 20 ms.",
        "",
        "| corpus | papers | queries | build s | index MB | segments | keyword p50 / p99 ms | "
        "search_papers p50 / p99 ms | page p50 / p99 ms | RSS MB (peak) | FTS5 build s | "
        "FTS5 MB | FTS5 p50 / p99 ms | FTS5 / search_papers p50 (p99) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k, s, g = r["keyword_ms"], r["search_papers_ms"], r["page_ms"]
        m = r["search_papers_ms_query_medians"]
        f = r.get("fts5_ms", {"p50": "-", "p99": "-"})
        lines.append(
            f"| {r['corpus']} | {r['papers']:,} | {r['queries']} | {r['index_build_s']} | "
            f"{r['index_mb']} | {r['segments']} | {k['p50']} / {k['p99']} | "
            f"{s['p50']} / {s['p99']} ({m['p50']} / {m['p99']}) | {g['p50']} / {g['p99']} | "
            f"{r['rss_mb_after_queries']} ({r['peak_rss_mb']}) | {r.get('fts5_build_s', '-')} | "
            f"{r.get('fts5_mb', '-')} | {f['p50']} / {f['p99']} | "
            f"{r.get('fts5_over_search_papers_p50', '-')}x "
            f"({r.get('fts5_over_search_papers_p99', '-')}x) |"
        )
    lines += [
        "",
        "By kind (search_papers p50 / p99 ms; 60 queries of each kind, 240 of plain words):",
        "",
        "| kind | " + " | ".join(r["corpus"] for r in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for kind in dict.fromkeys(KINDS):
        cells = []
        for r in rows:
            found = r["search_papers_ms_by_kind"].get(kind)
            cells.append(f"{found['p50']} / {found['p99']}" if found else "-")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    (RESULTS / "search.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    if sys.argv[1:2] == ["hybrid"]:
        hybrid = Path(__file__).with_name("search_hybrid.py")
        os.execv(sys.executable, [sys.executable, str(hybrid), *sys.argv[2:]])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", nargs="?", choices=("prepare", "run", "all"), default="all")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--sizes", default="real,1m")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=None, help="keep stores here between runs")
    parser.add_argument("--lock", type=Path, default=None, help="hold its exclusive lock to time")
    parser.add_argument("--fts-passes", type=int, default=1, help="0 leaves FTS5 out")
    args = parser.parse_args()
    folder = args.cache or Path(tempfile.mkdtemp(prefix="dp-search-bench-"))
    sizes = args.sizes.split(",")
    stores = prepare(folder, args.shared, sizes)
    if args.step == "prepare":
        return
    rows = [
        measure(
            size if size != "1m" else "1M",
            stores[size],
            folder,
            args.passes,
            args.lock,
            args.fts_passes,
        )
        for size in sizes
    ]
    write_results(rows)


if __name__ == "__main__":
    main()
