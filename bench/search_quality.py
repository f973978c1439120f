"""Search quality on real papers: recall@10 and MRR@10 of keyword, dense and hybrid search on two
dev sets, with the fusion tuned on one half and reported on the other.

- known-item titles: the query is a paper's title, the target that paper;
- long queries: two or three consecutive sentences of a paper's abstract, removed from the text
  that paper is indexed (and embedded) with, the target that paper.

The corpus is the first --papers real papers of ../shared/data (both files, HF titles first), with
the shared MiniLM vectors; the long-query targets are re-embedded without their removed sentences.
Queries are embedded by the serving runtime (int8). Writes bench/results/search_quality.{json,md}.

    python bench/search_quality.py [--shared ../shared] [--papers 30000] [--queries 400]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import random
import re
import statistics
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.config import Settings
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up, parse_query
from dailypapers.search.embedder import MINILM_ID, OnnxEmbedder, model_dir
from dailypapers.search.hybrid import Fusion, fuse
from dailypapers.search.onnx_export import ensure_exported
from dailypapers.search.paper_vectors import import_vectors, refresh_vectors
from dailypapers.store import open_database
from dailypapers.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
K = 10
POOL = 100


def read_records(shared: Path, papers: int) -> dict[str, dict[str, Any]]:
    records: dict[str, dict[str, Any]] = {}
    hf_share = papers // 6
    with gzip.open(shared / "data" / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in itertools.islice(f, hf_share):
            r = json.loads(line)
            records[r["arxiv_id"]] = {
                "arxiv_id": r["arxiv_id"],
                "title": r["title"],
                "abstract": r["abstract"],
                "authors": r["authors"],
                "categories": ["cs.CL"],
                "published": r["published"],
            }
    with gzip.open(shared / "data" / "arxiv_sample.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            if len(records) >= papers:
                break
            r = json.loads(line)
            if r["arxiv_id"] not in records:
                records[r["arxiv_id"]] = {
                    k: r[k]
                    for k in ("arxiv_id", "title", "abstract", "authors", "categories", "published")
                }
    return records


def dev_sets(
    records: dict[str, dict[str, Any]], n: int, seed: int = 5
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], dict[str, str]]:
    """(title queries, long queries, the long targets' shortened abstracts)."""
    rng = random.Random(seed)
    ids = sorted(records)
    rng.shuffle(ids)
    longs: list[tuple[str, str]] = []
    shortened: dict[str, str] = {}
    titles: list[tuple[str, str]] = []
    for arxiv_id in ids:
        sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", records[arxiv_id]["abstract"])
        if len(longs) < n and len(sentences) >= 5:
            size = rng.choice([2, 3])
            start = rng.randrange(0, len(sentences) - size + 1)
            longs.append((" ".join(sentences[start : start + size]), arxiv_id))
            shortened[arxiv_id] = " ".join(sentences[:start] + sentences[start + size :])
        elif len(titles) < n:
            titles.append((records[arxiv_id]["title"], arxiv_id))
        if len(longs) >= n and len(titles) >= n:
            break
    return titles, longs, shortened


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--papers", type=int, default=30_000)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    records = read_records(args.shared, args.papers)
    titles, longs, shortened = dev_sets(records, args.queries)
    for arxiv_id, abstract in shortened.items():
        records[arxiv_id] = {**records[arxiv_id], "abstract": abstract}
    work = Path(tempfile.mkdtemp(prefix="dp-quality-"))
    corpus = work / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for record in records.values():
            out.write(json.dumps(record) + "\n")
    db = open_database(f"sqlite:///{work / 'store.sqlite3'}")
    upgrade(db)
    import_file(db, corpus, parse_in_subprocess=False)
    runtime = model_dir(ROOT / "data")
    ensure_exported(runtime)
    documents = OnnxEmbedder(runtime)
    queries = OnnxEmbedder(runtime, quantized=True)
    shared_ids = (args.shared / "data" / "minilm" / "ids.txt").read_text().split()
    shared = np.load(args.shared / "data" / "minilm" / "vectors.f16.npy", mmap_mode="r")
    row = {a: i for i, a in enumerate(shared_ids)}
    keep = [a for a in records if a in row and a not in shortened]
    np.save(work / "v.npy", np.asarray(shared[[row[a] for a in keep]]))
    (work / "v.ids.txt").write_text("\n".join(keep) + "\n")
    changed = sorted(shortened)
    texts = [records[a]["title"] + "\n" + records[a]["abstract"] for a in changed]
    np.save(
        work / "c.npy",
        np.vstack([documents.embed(texts[i : i + 16]) for i in range(0, len(texts), 16)]),
    )
    (work / "c.ids.txt").write_text("\n".join(changed) + "\n")
    now = datetime.now(UTC)
    for name in ("v", "c"):
        import_vectors(
            db,
            work / f"{name}.npy",
            work / f"{name}.ids.txt",
            model_id=MINILM_ID,
            expected_model_id=MINILM_ID,
            expected_dim=384,
            now=now,
        )
    index = SearchIndex(work / "index", reopen_check_seconds=0.0)
    catch_up(db, index)
    refresh_vectors(db, index, MINILM_ID, 384, exact_max=Settings().search_exact_max_rows)
    opened = index.searcher()
    legs = {
        name: [legs_of(opened, queries, q, t) for q, t in qs]
        for name, qs in (("title", titles), ("long", longs))
    }
    grid = [
        Fusion("rrf", rrf_k=k, dense_weight=w)
        for k in (10, 30, 60)
        for w in (0.5, 1.0, 1.5, 2.0, 3.0)
    ]
    grid += [Fusion("convex", alpha=a) for a in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]
    thresholds = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45)
    best = max(
        ((f, t) for f in grid for t in thresholds),
        key=lambda ft: statistics.fmean(
            score([hybrid_rank(leg, *ft) for leg in legs[name][0::2]])["mrr"] for name in legs
        ),
    )
    report: dict[str, Any] = {
        "papers": len(records),
        "queries_per_set": args.queries,
        "tuned": {"fusion": asdict(best[0]), "min_similarity": best[1]},
        "held_out": {},
    }
    for name in legs:
        held = legs[name][1::2]
        report["held_out"][name] = {
            "keyword": score([leg["keyword"] for leg in held]),
            "keyword_any_word": score([leg["any_word"] for leg in held]),
            "dense": score([leg["dense"] for leg in held]),
            "hybrid": score([hybrid_rank(leg, *best) for leg in held]),
        }
    report["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search_quality.json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [
        "# Search quality (bench/search_quality.py)",
        "",
        f"{len(records):,} real papers; {args.queries} queries per set, tuned on the even half, "
        f"reported on the odd half. Tuned: {best[0]}, min_similarity {best[1]}.",
        "keyword = the keyword mode (every word required); keyword_any_word = hybrid's BM25 side.",
        "",
        "| Set | Method | recall@10 | MRR@10 |",
        "|---|---|---|---|",
    ]
    for name, methods in report["held_out"].items():
        for method, s in methods.items():
            lines.append(f"| {name} | {method} | {s['recall']:.3f} | {s['mrr']:.3f} |")
    (RESULTS / "search_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def legs_of(opened: Any, embedder: OnnxEmbedder, text: str, target: str) -> dict[str, Any]:
    """Both candidate lists of one query, as the service computes them, and the target's ranks."""
    query = parse_query(text[:2000], limit=K)
    keyword, vectors = opened.keyword, opened.vectors
    vector = embedder.embed([query.semantic_text])[0]
    strict = [i for i, _ in keyword.search(query, order="relevance", limit=K).hits]
    nearest = [
        (vectors.ids[r], c) for r, c in vectors.nearest(vector, POOL, keep=None, exact_max=10**9)
    ]
    lexical = keyword.search_any(query, limit=POOL)
    cosines = dict(nearest)
    for arxiv_id, _ in lexical:
        if arxiv_id not in cosines and (v := vectors.vector_of(arxiv_id)) is not None:
            cosines[arxiv_id] = float(v @ vector)
    candidates = {i for i, _ in lexical} | {i for i, _ in nearest}
    return {
        "target": target,
        "keyword": rank_of(target, strict),
        "dense": rank_of(target, [i for i, _ in nearest]),
        "any_word": rank_of(target, [i for i, _ in lexical]),
        "lexical": lexical,
        "nearest": nearest,
        "cosines": cosines,
        "matches": keyword.matching_ids(query, candidates),
    }


def hybrid_rank(leg: dict[str, Any], fusion: Fusion, threshold: float) -> int | None:
    fused = fuse(leg["lexical"], leg["nearest"], leg["cosines"], fusion)
    shown = [i for i, _ in fused if i in leg["matches"] or leg["cosines"].get(i, -1.0) >= threshold]
    return rank_of(leg["target"], shown)


def rank_of(target: str, ranked: list[str]) -> int | None:
    return ranked.index(target) + 1 if target in ranked[:K] else None


def score(ranks: list[int | None]) -> dict[str, float]:
    return {
        "recall": sum(r is not None for r in ranks) / len(ranks),
        "mrr": sum(1 / r for r in ranks if r is not None) / len(ranks),
    }


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"{time.perf_counter() - started:.0f} s")
