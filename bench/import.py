"""Import benchmark: the real arXiv and Hugging Face files into fresh SQLite and PostgreSQL stores.

Runs `dailypapers import` as a subprocess, as users do, and samples the resident memory of its whole
process tree (writer plus parser) every 20 ms. Writes bench/results/import.json and import.md.

    python bench/import.py [--repeat N] [--shared ../shared] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGETS = {"sqlite": 5_000, "postgresql": 2_000}  # papers/s, from issue #2
MEMORY_TARGET_MB = 500


def tree_rss_kb(pid: int) -> int:
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, TypeError):
            continue
    return total


def run_import(env: dict[str, str], file: Path, extra: list[str]) -> dict[str, object]:
    command = [sys.executable, "-m", "dailypapers", "import", "--quiet", *extra, str(file)]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"import failed: {stderr.decode()[-2000:]}")
    summary = stdout.decode().strip()
    papers = int(re.search(r"([\d,]+) papers \(", summary)[1].replace(",", ""))  # type: ignore[index]
    return {
        "papers": papers,
        "seconds": round(elapsed, 2),
        "papers_per_second": round(papers / elapsed),
        "peak_rss_mb": round(peak / 1024, 1),
        "summary": summary,
    }


def fresh_store(backend: str, workdir: Path) -> tuple[dict[str, str], str | None]:
    data_dir = workdir / f"data-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": str(data_dir)}
    dropped = None
    if backend == "postgresql":
        name = f"dp_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        env["DAILYPAPERS_DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        dropped = name
    subprocess.run(
        [sys.executable, "-m", "dailypapers", "init"], env=env, check=True, capture_output=True
    )
    return env, dropped


def drop(name: str | None) -> None:
    if name:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    arxiv = args.shared / "data" / "arxiv_sample.jsonl.gz"
    hf = args.shared / "data" / "hf_daily_papers.jsonl.gz"
    backends = ["sqlite"] + ([] if args.skip_postgres else ["postgresql"])
    variants = {"two processes": [], "single process": ["--single-process"]}
    runs: list[dict[str, object]] = []
    workdir = Path(tempfile.mkdtemp(prefix="dp-bench-import-"))
    try:
        for backend in backends:
            for variant, extra in variants.items():
                if backend == "postgresql" and variant == "single process":
                    continue
                for attempt in range(args.repeat):
                    env, name = fresh_store(backend, workdir)
                    try:
                        result = run_import(env, arxiv, extra)
                        rerun = run_import(env, arxiv, extra)
                        featured = run_import(env, hf, extra)
                    finally:
                        drop(name)
                    runs.append(
                        {
                            "backend": backend,
                            "variant": variant,
                            "attempt": attempt,
                            "arxiv": result,
                            "arxiv_reimport": rerun,
                            "hf": featured,
                        }
                    )
                    print(json.dumps(runs[-1]["arxiv"]), file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(runs, backends, variants)


def report(
    runs: list[dict[str, object]], backends: list[str], variants: dict[str, list[str]]
) -> None:
    rows = []
    for backend in backends:
        for variant in variants:
            mine = [r for r in runs if r["backend"] == backend and r["variant"] == variant]
            if not mine:
                continue

            def median(key: str, field: str, of: list[dict[str, object]] = mine) -> float:
                return statistics.median(float(r[key][field]) for r in of)  # type: ignore[index]

            rows.append(
                {
                    "backend": backend,
                    "variant": variant,
                    "runs": len(mine),
                    "arxiv_papers_per_second": median("arxiv", "papers_per_second"),
                    "arxiv_peak_rss_mb": median("arxiv", "peak_rss_mb"),
                    "reimport_papers_per_second": median("arxiv_reimport", "papers_per_second"),
                    "hf_papers_per_second": median("hf", "papers_per_second"),
                    "hf_peak_rss_mb": median("hf", "peak_rss_mb"),
                    "target_papers_per_second": TARGETS[backend],
                    "summaries": [r["arxiv"]["summary"] for r in mine]  # type: ignore[index]
                    + [mine[0]["hf"]["summary"]],  # type: ignore[index]
                }
            )
    meta = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "import.json").write_text(
        json.dumps({"meta": meta, "results": rows, "runs": runs}, indent=2) + "\n"
    )
    lines = [
        "# Import benchmark",
        "",
        f"{meta['when']}, {meta['machine']}, Python {meta['python']}. Medians of each row's runs.",
        "arxiv = `arxiv_sample.jsonl.gz` (115,671 papers) into a fresh store; re-import = the same",
        "file again (nothing changes); hf = `hf_daily_papers.jsonl.gz` (9,577 featured) on top.",
        "",
        "| backend | variant | runs | arxiv papers/s | target | peak RSS MB "
        "| re-import papers/s | hf papers/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['backend']} | {row['variant']} | {row['runs']} | "
            f"{row['arxiv_papers_per_second']:,.0f} | ≥ {row['target_papers_per_second']:,} | "
            f"{row['arxiv_peak_rss_mb']:.0f} (≤ {MEMORY_TARGET_MB}) | "
            f"{row['reimport_papers_per_second']:,.0f} | {row['hf_papers_per_second']:,.0f} |"
        )
    (RESULTS / "import.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
