"""Build the bundled demo sample in sample/ from the large files in ../shared/data.

Run once by a maintainer (`python tools/make_sample.py`); users never need ../shared. Picks the
last FEATURED_DAYS featured days of the Hugging Face records, the most recent arXiv records with a
cap per primary category (for a spread of fields), and the MiniLM vectors of every picked paper.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

FEATURED_DAYS = 40
ARXIV_RECORDS = 2_000
PER_CATEGORY_CAP = 250

ROOT = Path(__file__).resolve().parents[1]


def main(shared: Path) -> None:
    out = ROOT / "sample"
    out.mkdir(exist_ok=True)
    with gzip.open(shared / "data/hf_daily_papers.jsonl.gz", "rt") as handle:
        hf = [json.loads(line) for line in handle]
    days = sorted({r["daily_date"] for r in hf})[-FEATURED_DAYS:]
    hf_pick = [r for r in hf if r["daily_date"] in set(days)]
    with gzip.open(shared / "data/arxiv_sample.jsonl.gz", "rt") as handle:
        arxiv = [json.loads(line) for line in handle]
    arxiv.sort(key=lambda r: (r["published"], r["arxiv_id"]), reverse=True)
    per_category: Counter[str] = Counter()
    arxiv_pick = []
    for record in arxiv:
        category = record["categories"][0] if record["categories"] else "?"
        if per_category[category] >= PER_CATEGORY_CAP:
            continue
        per_category[category] += 1
        arxiv_pick.append(record)
        if len(arxiv_pick) == ARXIV_RECORDS:
            break
    _write(out / "hf_daily_papers.sample.jsonl.gz", hf_pick)
    _write(out / "arxiv.sample.jsonl.gz", arxiv_pick)

    ids = (shared / "data/minilm/ids.txt").read_text().split()
    row_of = {arxiv_id: row for row, arxiv_id in enumerate(ids)}
    wanted = sorted({r["arxiv_id"] for r in hf_pick + arxiv_pick} & row_of.keys())
    vectors = np.load(shared / "data/minilm/vectors.f16.npy", mmap_mode="r")
    np.save(out / "vectors.f16.npy", np.asarray(vectors[[row_of[i] for i in wanted]]))
    (out / "vectors.ids.txt").write_text("\n".join(wanted) + "\n")
    print(
        f"{len(hf_pick)} featured papers over {len(days)} days ({days[0]} to {days[-1]}), "
        f"{len(arxiv_pick)} arXiv records, {len(wanted)} vectors; categories: "
        + ", ".join(f"{c} {n}" for c, n in per_category.most_common(8))
    )


def _write(path: Path, records: list[dict[str, object]]) -> None:
    # mtime=0 keeps the gzip bytes reproducible.
    with gzip.GzipFile(path, "wb", mtime=0) as handle:
        for record in records:
            handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared")
