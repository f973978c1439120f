"""The research-need dev set (issue #17): a ~3,000-paper corpus of real papers spread over the
shared arXiv sample's categories, 44 paragraph-length research needs written by hand, and for
each need the pool of papers that keyword (BM25 over any query word), dense (cosine over the
shared MiniLM vectors) and the product's hybrid search put in their top 30. The pools are graded
by hand (bench/data/research_needs/qrels/); see bench/README.md, "Research-need set".

    python bench/research_needs.py corpus   # (re)choose the corpus: corpus_ids.txt (seeded)
    python bench/research_needs.py pools    # build store + index, write pools/rnNN*.json
    python bench/research_needs.py titles --category cs.RO   # browse corpus titles (stdout)
    python bench/research_needs.py stats    # counts of queries, pools and grades

The corpus file holds arXiv ids only; titles, abstracts and categories are read from
../shared/data at run time (arxiv_sample first, hf_daily_papers for the rest).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import random
import shutil
import statistics
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from dailypapers.config import Settings
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up, parse_query
from dailypapers.search.embedder import MINILM_ID, OnnxEmbedder, model_dir
from dailypapers.search.model_files import ensure_exported
from dailypapers.search.paper_vectors import import_vectors, refresh_vectors
from dailypapers.search.service import search_papers
from dailypapers.services import semantic_config
from dailypapers.store import open_database
from dailypapers.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]

DATA = ROOT / "bench" / "data" / "research_needs"
TOP = 30
SEED = 17
FIELDS = ("arxiv_id", "title", "abstract", "authors", "categories", "published")

# Papers per stratum. A stratum is the primary (first listed) category for the large cs, eess
# and physics subjects, else the archive (math, stat, q-bio, ...). Smaller strata take all they
# have. "hf" is the Hugging Face daily papers (featured ML papers), drawn from the whole file.
QUOTAS: dict[str, int] = {
    "cs.CV": 300, "cs.CL": 260, "cs.LG": 220, "cs.AI": 180, "cs.RO": 120, "cs.CR": 60,
    "cs.SE": 60, "cs.IR": 60, "cs.HC": 50, "cs.IT": 40, "cs.GR": 40, "cs.GT": 40, "cs.CE": 30,
    "cs.NE": 30, "cs.SD": 40, "cs.CY": 30, "cs.DC": 40, "cs.MA": 25, "cs.NI": 25, "cs.DS": 20,
    "cs.other": 40,
    "eess.IV": 60, "eess.SY": 50, "eess.AS": 40, "eess.SP": 50,
    "quant-ph": 150, "cond-mat": 200, "physics": 160, "nlin": 30, "astro-ph": 40, "gr-qc": 12,
    "hep": 19, "math": 140, "stat": 90, "q-bio": 74, "q-fin": 9, "econ": 9,
    "hf": 250,
}  # fmt: skip
CS_NAMED = {k for k in QUOTAS if k.startswith("cs.")} - {"cs.other"}


def stratum(categories: list[str]) -> str:
    primary = categories[0] if categories else "cs.other"
    archive = primary.split(".")[0]
    if archive == "cs":
        return primary if primary in CS_NAMED else "cs.other"
    if archive == "eess":
        return primary
    if archive in ("hep-th", "hep-ex", "hep-lat", "hep-ph"):
        return "hep"
    if archive == "math-ph":
        return "math"
    return archive


def read_shared(shared: Path) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(arxiv_sample records, hf_daily_papers records), by id."""
    sample: dict[str, dict[str, Any]] = {}
    with gzip.open(shared / "data" / "arxiv_sample.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            sample[r["arxiv_id"]] = {k: r[k] for k in FIELDS}
    hf: dict[str, dict[str, Any]] = {}
    with gzip.open(shared / "data" / "hf_daily_papers.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            hf[r["arxiv_id"]] = {k: r.get(k) for k in FIELDS}
    return sample, hf


def choose_corpus(shared: Path) -> list[str]:
    sample, hf = read_shared(shared)
    by_stratum: dict[str, list[str]] = collections.defaultdict(list)
    for arxiv_id, r in sample.items():
        by_stratum[stratum(r["categories"])].append(arxiv_id)
    rng = random.Random(SEED)
    chosen: list[str] = []
    for name, quota in QUOTAS.items():
        if name == "hf":
            continue
        ids = sorted(by_stratum[name])
        rng.shuffle(ids)
        chosen += ids[:quota]
    taken = set(chosen)
    hf_ids = sorted(i for i in hf if i not in taken)
    rng.shuffle(hf_ids)
    chosen += hf_ids[: QUOTAS["hf"]]
    return sorted(chosen)


def corpus_records(shared: Path) -> dict[str, dict[str, Any]]:
    ids = (DATA / "corpus_ids.txt").read_text().split()
    sample, hf = read_shared(shared)
    records: dict[str, dict[str, Any]] = {}
    for arxiv_id in ids:
        r = dict(sample.get(arxiv_id) or hf[arxiv_id])
        if not r.get("categories"):
            r["categories"] = []
        records[arxiv_id] = r
    return records


def read_queries() -> list[dict[str, Any]]:
    path = DATA / "queries.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def build(shared: Path, records: dict[str, dict[str, Any]], work: Path) -> tuple[Any, Any, Any]:
    """Store + index of the corpus with the product's own code; (db, index, query embedder)."""
    corpus = work / "corpus.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for record in records.values():
            out.write(json.dumps(record) + "\n")
    db = open_database(f"sqlite:///{work / 'store.sqlite3'}")
    upgrade(db)
    import_file(db, corpus, parse_in_subprocess=False)
    shared_ids = (shared / "data" / "minilm" / "ids.txt").read_text().split()
    vectors = np.load(shared / "data" / "minilm" / "vectors.f16.npy", mmap_mode="r")
    row = {a: i for i, a in enumerate(shared_ids)}
    keep = [a for a in records if a in row]
    np.save(work / "v.npy", np.asarray(vectors[[row[a] for a in keep]]))
    (work / "v.ids.txt").write_text("\n".join(keep) + "\n")
    import_vectors(
        db,
        work / "v.npy",
        work / "v.ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=384,
        now=datetime.now(UTC),
    )
    runtime = model_dir(ROOT / "data")
    ensure_exported(runtime)
    settings = Settings()
    embedder = OnnxEmbedder(runtime, quantized=settings.embedding_int8_queries)
    index = SearchIndex(
        work / "index",
        reopen_check_seconds=0.0,
        semantic=replace(semantic_config(settings), embedder=embedder),
    )
    catch_up(db, index)
    refresh_vectors(db, index, MINILM_ID, 384, exact_max=settings.search_exact_max_rows)
    return db, index, embedder


def rankings(db: Any, index: Any, embedder: Any, text: str) -> dict[str, list[str]]:
    """The top TOP ids of each method for one research need."""
    opened = index.searcher()
    keyword_query = parse_query(text[:2000], limit=TOP, mode="keyword")
    any_word = [i for i, _ in opened.keyword.search_any(keyword_query, limit=TOP)]
    vector = embedder.embed([keyword_query.semantic_text])[0]
    dense = [
        opened.vectors.ids[r]
        for r, _ in opened.vectors.nearest(vector, TOP, keep=None, exact_max=10**9)
    ]
    result = search_papers(db, index, parse_query(text[:2000], limit=TOP, mode="hybrid"))
    assert result.mode == "hybrid", result.mode
    hybrid = [hit.paper.arxiv_id for hit in result.hits]
    return {"bm25_any": any_word, "dense": dense, "hybrid": hybrid}


def make_pools(shared: Path) -> None:
    records = corpus_records(shared)
    queries = read_queries()
    work = Path(tempfile.mkdtemp(prefix="dp-needs-"))
    db, index, embedder = build(shared, records, work)
    pools = DATA / "pools"
    pools.mkdir(parents=True, exist_ok=True)
    for q in queries:
        ranked = rankings(db, index, embedder, q["text"])
        found: dict[str, dict[str, int]] = {}
        for method, ids in ranked.items():
            for rank, arxiv_id in enumerate(ids, 1):
                found.setdefault(arxiv_id, {})[method] = rank
        # Pool order: by arXiv id, so that the order tells the grader nothing about any method.
        papers = [
            {
                "paper_id": i,
                "title": records[i]["title"],
                "abstract": records[i]["abstract"],
                "categories": records[i]["categories"],
            }
            for i in sorted(found)
        ]
        pool = {"id": q["id"], "text": q["text"], "aspects": q["aspects"], "papers": papers}
        (pools / f"{q['id']}.json").write_text(
            json.dumps(pool, indent=1, ensure_ascii=False) + "\n"
        )
        ranks = {"id": q["id"], "top": TOP, "rankings": ranked, "found_by": found}
        (pools / f"{q['id']}.ranks.json").write_text(json.dumps(ranks, indent=1) + "\n")
        print(q["id"], len(papers), {m: len(v) for m, v in ranked.items()})
    shutil.rmtree(work, ignore_errors=True)


def stats() -> None:
    queries = read_queries()
    sizes: list[int] = []
    graded: list[str] = []
    grades: collections.Counter[int] = collections.Counter()
    for q in queries:
        pool = DATA / "pools" / f"{q['id']}.json"
        if pool.exists():
            sizes.append(len(json.loads(pool.read_text())["papers"]))
        qrels = DATA / "qrels" / f"{q['id']}.json"
        if qrels.exists():
            graded.append(q["id"])
            grades.update(v["grade"] for v in json.loads(qrels.read_text()).values())
    words = [len(q["text"].split()) for q in queries]
    median = statistics.median(words)
    print(f"queries {len(queries)} (words {min(words)}-{max(words)}, median {median})")
    print("splits", collections.Counter(q["split"] for q in queries))
    print("categories", collections.Counter(q["category_hint"] for q in queries))
    if sizes:
        print(f"pools {len(sizes)}: median {statistics.median(sizes)}, {min(sizes)}-{max(sizes)}")
    print(f"graded {len(graded)}: {graded}")
    print("grades", dict(sorted(grades.items())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("corpus", "pools", "titles", "stats"))
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--category", default="")
    args = parser.parse_args()
    if args.step == "corpus":
        DATA.mkdir(parents=True, exist_ok=True)
        (DATA / "corpus_ids.txt").write_text("\n".join(choose_corpus(args.shared)) + "\n")
    elif args.step == "titles":
        for r in corpus_records(args.shared).values():
            cats = r["categories"] or ["(hf)"]
            if not args.category or any(c.startswith(args.category) for c in cats):
                print(f"{r['arxiv_id']}\t{cats[0]}\t{r['title']}")
    elif args.step == "pools":
        make_pools(args.shared)
    else:
        stats()


if __name__ == "__main__":
    main()
