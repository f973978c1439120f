"""Keyword search benchmark: the tantivy index over the real papers (~125k) and over 1M (the real
papers plus synthetic variations of them), against SQLite FTS5 on the same queries.

For each size: rebuild the index from a SQLite store (timed), then time a rotating set of >= 500
distinct queries (short, field and filtered), warm and in-process ("server side"): the keyword
engine alone (top 20 + total), the whole `search_papers` call (plus store reads and snippets),
and FTS5 (top 20 by bm25 + total). Writes bench/results/search.json and search.md.

    python bench/search.py [--shared ../shared] [--sizes real,1m] [--passes 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from dailypapers.domain import PaperRecord
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, parse_query, rebuild, search_papers
from dailypapers.search.query import Query
from dailypapers.store import Database, open_database
from dailypapers.store.changes import list_live_upvotes
from dailypapers.store.migrate import upgrade
from dailypapers.store.papers import upsert_papers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_P50_MS, TARGET_P99_MS = 5.0, 20.0  # keyword queries at 1M, issue #4
PAGE = 20
BATCH = 5_000


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
        "mean": round(statistics.fmean(ordered), 3),
    }


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


def make_queries(db: Database, count: int = 600, seed: int = 3) -> list[Query]:
    """Distinct queries drawn from the corpus: short words, fields, and filtered ones."""
    rng = random.Random(seed)
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT title, authors, categories FROM papers ORDER BY random() LIMIT 20000"
        ).all()
        voted = conn.exec_driver_sql("SELECT count(*) FROM featured").scalar_one()
    words = [w for r in rows for w in re.findall(r"[A-Za-z]{5,}", r[0]) if w.isalpha()]
    surnames = [n.split()[-1] for r in rows for n in json.loads(r[1]) if n.split()]
    categories = [c for r in rows for c in r[2].split()]
    seen: set[tuple[object, ...]] = set()
    queries: list[Query] = []
    while len(queries) < count:
        kind = len(queries) % 10
        word = rng.choice(words).lower()
        if kind < 4:
            text = " ".join(rng.choice(words).lower() for _ in range(rng.randint(1, 3)))
            query = parse_query(text)
        elif kind == 4:
            query = parse_query(f"ti:{word}")
        elif kind == 5:
            query = parse_query(f"au:{rng.choice(surnames)}")
        elif kind == 6:
            query = parse_query(f"cat:{rng.choice(categories)} {word}")
        elif kind == 7:
            first = date(2019, 1, 1) + timedelta(days=rng.randrange(2_700))
            query = parse_query(word, date_from=first, date_to=first + timedelta(days=90))
        elif kind == 8:
            query = parse_query(word, categories=[rng.choice(categories)])
        else:
            query = parse_query(word, min_upvotes=5) if voted else parse_query(f"abs:{word}")
        key = (query.text, query.date_from, query.categories, query.min_upvotes)
        if key not in seen:
            seen.add(key)
            queries.append(query)
    return queries


def build_fts(store_path: Path, fts_path: Path) -> float:
    started = time.perf_counter()
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
    where, params = ["docs MATCH ?"], [" AND ".join(parts)]
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
    db: Database, index: SearchIndex, queries: list[Query], passes: int
) -> tuple[list[float], list[float]]:
    engine: list[float] = []
    service: list[float] = []
    keyword = index.searcher().keyword
    for run in range(passes + 1):
        for query in queries:
            started = time.perf_counter()
            only_ids = None
            if query.min_upvotes:  # the live counts from the store are part of the engine
                with db.read() as conn:
                    only_ids = list_live_upvotes(conn, at_least=query.min_upvotes)
            keyword.search(query, order="relevance", limit=PAGE, only_ids=only_ids)
            elapsed = (time.perf_counter() - started) * 1_000
            started = time.perf_counter()
            search_papers(db, index, query)
            if run:
                engine.append(elapsed)
                service.append((time.perf_counter() - started) * 1_000)
    return engine, service


def measure(
    label: str, db: Database, store_path: Path, folder: Path, passes: int
) -> dict[str, Any]:
    with db.read() as conn:
        papers = conn.exec_driver_sql("SELECT count(*) FROM papers").scalar_one()
    index = SearchIndex(folder / f"index-{label}")
    report = rebuild(db, index)
    queries = make_queries(db)
    engine, service = time_tantivy(db, index, queries, passes)
    rss, peak = rss_mb()
    fts_path = folder / f"fts-{label}.sqlite3"
    fts_build = build_fts(store_path, fts_path)
    fts = time_fts(fts_path, store_path, queries, passes)
    row = {
        "corpus": label,
        "papers": papers,
        "queries": len(queries),
        "timed_per_engine": len(engine),
        "index_build_s": round(report.seconds, 1),
        "index_mb": round(index.disk_bytes() / 2**20, 1),
        "keyword_ms": percentiles(engine),
        "search_papers_ms": percentiles(service),
        "rss_mb_after_queries": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "fts5_build_s": round(fts_build, 1),
        "fts5_mb": round(fts_path.stat().st_size / 2**20, 1),
        "fts5_ms": percentiles(fts),
    }
    row["fts5_over_keyword_p50"] = round(row["fts5_ms"]["p50"] / row["keyword_ms"]["p50"], 1)
    row["fts5_over_keyword_p99"] = round(row["fts5_ms"]["p99"] / row["keyword_ms"]["p99"], 1)
    print(json.dumps(row), flush=True)
    fts_path.unlink()
    return row


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
        f"{meta['when']}, {meta['machine']}, SQLite {meta['sqlite']}. Warm, in-process; "
        f"each of the distinct queries timed {rows[0]['timed_per_engine'] // rows[0]['queries']}x "
        "after a warm-up pass. keyword = the tantivy engine (top 20 + total; min-upvote queries "
        "include reading the store's live counts); search_papers = the whole service call "
        "(plus the papers from the store and snippets); FTS5 = SQLite FTS5 (porter) top 20 "
        "by bm25 + total, same queries. Target at 1M: keyword p50 <= 5 ms, p99 <= 20 ms.",
        "",
        "| corpus | papers | queries | build s | index MB | keyword p50 / p99 ms | "
        "search_papers p50 / p99 ms | RSS MB (peak) | FTS5 build s | FTS5 MB | "
        "FTS5 p50 / p99 ms | FTS5 / keyword p50 (p99) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        k, s, f = r["keyword_ms"], r["search_papers_ms"], r["fts5_ms"]
        lines.append(
            f"| {r['corpus']} | {r['papers']:,} | {r['queries']} | {r['index_build_s']} | "
            f"{r['index_mb']} | {k['p50']} / {k['p99']} | {s['p50']} / {s['p99']} | "
            f"{r['rss_mb_after_queries']} ({r['peak_rss_mb']}) | {r['fts5_build_s']} | "
            f"{r['fts5_mb']} | {f['p50']} / {f['p99']} | "
            f"{r['fts5_over_keyword_p50']}x ({r['fts5_over_keyword_p99']}x) |"
        )
    (RESULTS / "search.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--sizes", default="real,1m")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="dp-search-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    store_path = folder / "store.sqlite3"
    db = open_database(f"sqlite:///{store_path}")
    upgrade(db)
    for name in ("arxiv_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
        import_file(db, args.shared / "data" / name)
    rows = []
    sizes = args.sizes.split(",")
    if "real" in sizes:
        rows.append(measure("real", db, store_path, folder, args.passes))
    if "1m" in sizes:
        synthetic(db, 1_000_000)
        rows.append(measure("1M", db, store_path, folder, args.passes))
    write_results(rows)
    db.dispose()


if __name__ == "__main__":
    main()
