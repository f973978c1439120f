"""Load benchmark: 60 s of mixed traffic at 64 connections (client timeout 5 s) against a
115k-paper instance (../shared/data arxiv_sample + hf_daily_papers), on SQLite with one
`dailypapers serve` worker and on PostgreSQL with 4 workers behind nginx (deploy/nginx.conf,
TLS on loopback with a throwaway certificate).

The traffic and the nothing-lost check are tests/integration/load_traffic.py (the suite runs
the same code for a few seconds): browse lists, paper pages, rotating searches, the JSON API,
upvote toggles by signed-in voters and digest subscriptions. Targets: 0 errors (no 5xx, no
timeouts, no 429) and, for every (voter, paper), the stored vote equals the last accepted toggle.

Prepared stores are cached under /work/bench-cache/load (or --cache): the SQLite data folder
and the PostgreSQL database dp_load_bench with its data folder. Each run adds its own voters.
Writes bench/results/load.json and load.md.

    .venv/bin/python bench/load.py [--backends sqlite postgresql] [--seconds 60]
        [--connections 64] [--lock /work/cpu.lock]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.deployment import run_nginx, run_serve  # noqa: E402
from tests.integration.load_traffic import (  # noqa: E402
    LOAD_SETTINGS,
    check_store,
    drive,
    format_table,
    make_target,
)

from dailypapers.config import Settings  # noqa: E402
from dailypapers.services import secret_key  # noqa: E402
from dailypapers.store import open_database  # noqa: E402

SHARED = Path(os.environ.get("DAILYPAPERS_SHARED_DIR", REPO.parent / "shared"))
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
PG_ADMIN = os.environ.get(
    "DAILYPAPERS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "dp_load_bench"
VOTERS = 640  # 10 per connection at 64
WARMUP_SECONDS = 10.0
TIMEOUT_SECONDS = 5.0


def _env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {**os.environ, **LOAD_SETTINGS, "DAILYPAPERS_DATA_DIR": str(data_dir)}
    if database_url:
        env["DAILYPAPERS_DATABASE_URL"] = database_url
    return env


def prepare(data_dir: Path, env: dict[str, str]) -> None:
    """init + both imports (each ends with a search-index catch-up), once per cache."""
    if (data_dir / "load-ready").exists():
        return
    started = time.perf_counter()
    subprocess.run([str(BIN / "dailypapers"), "init"], env=env, check=True)
    for name in ("arxiv_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
        path = SHARED / "data" / name
        subprocess.run(
            [str(BIN / "dailypapers"), "import", "--quiet", str(path)], env=env, check=True
        )
    (data_dir / "load-ready").write_text(f"{time.perf_counter() - started:.1f}\n")


def pg_url(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"


def ensure_pg_database(cache: Path, database: str = PG_DATABASE) -> None:
    if (cache / "load-ready").exists():
        return
    shutil.rmtree(cache, ignore_errors=True)
    subprocess.run(
        ["psql", PG_ADMIN, "-q", "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'],
        check=True,
    )
    subprocess.run(["psql", PG_ADMIN, "-q", "-c", f'CREATE DATABASE "{database}"'], check=True)


@contextlib.contextmanager
def exclusive(lock: Path | None, mode: int = fcntl.LOCK_EX) -> Iterator[None]:
    """Hold the machine's CPU lock exclusively while timing, so no test run disturbs it (or
    shared, LOCK_SH, while preparing, so that no one else's timing is disturbed)."""
    if lock is None:
        yield
        return
    with lock.open("a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    if backend == "sqlite":
        data_dir, url, workers = args.cache / "sqlite", None, 1
    else:
        data_dir, url, workers = args.cache / "postgresql", pg_url(args.pg_database), 4
    with exclusive(args.lock, fcntl.LOCK_SH):
        if backend != "sqlite":
            ensure_pg_database(data_dir, args.pg_database)
        data_dir.mkdir(parents=True, exist_ok=True)
        env = _env(data_dir, url)
        prepare(data_dir, env)
    settings = Settings(data_dir=data_dir, database_url=url, **_settings_of(env))
    db = open_database(settings.effective_database_url)
    work = Path(tempfile.mkdtemp(prefix=f"dailypapers-load-{backend}-"))
    try:
        served = run_serve(
            data_dir, work / "serve.log", workers=workers, metrics_dir=work / "metrics", env=env
        )
        with exclusive(args.lock), served as app:
            base = app.url
            with contextlib.ExitStack() as proxy:
                if backend != "sqlite":
                    # deploy/nginx.conf as documented, TLS on loopback (ports and paths changed).
                    front = proxy.enter_context(run_nginx(work / "nginx", app.port))
                    base = front.https_url.replace("//localhost:", "//127.0.0.1:")
                target = make_target(db, secret_key(settings), base, voters=VOTERS)
                result = drive(
                    target,
                    seconds=args.seconds,
                    connections=args.connections,
                    timeout_seconds=TIMEOUT_SECONDS,
                    warmup_seconds=args.warmup,
                    verify=False,
                )
        check = check_store(db, target, result)
    finally:
        db.dispose()
        shutil.rmtree(work, ignore_errors=True)
    summary = result.summary()
    summary.update(
        load_average_after=[round(x, 1) for x in os.getloadavg()],
        backend=backend,
        workers=workers,
        proxy="nginx (deploy/nginx.conf, TLS)" if backend != "sqlite" else "none",
        compared_pairs=check.compared_pairs,
        lost_votes=len(check.lost_votes),
        lost_vote_examples=check.lost_votes[:10],
        missing_subscriptions=len(check.missing_subscriptions),
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "routes"}), flush=True)
    return summary


def _settings_of(env: dict[str, str]) -> dict[str, Any]:
    """The settings the servers run with, as Settings keyword arguments."""
    prefix = "DAILYPAPERS_"
    names = set(Settings.model_fields)
    picked = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    picked.pop("data_dir", None)
    picked.pop("database_url", None)
    return {k: v for k, v in picked.items() if k in names}


def write_results(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "store": "115,671 arXiv papers + 9,577 HF featured records (../shared/data)",
        "traffic": (
            f"{args.connections} keep-alive connections (h11, one per simulated client), "
            f"{args.seconds:.0f} s after a "
            f"{args.warmup:.0f} s read-only warm-up, client timeout {TIMEOUT_SECONDS:.0f} s, "
            f"{VOTERS} signed-in voters"
        ),
        "client_on_same_machine": True,
    }
    (RESULTS / "load.json").write_text(json.dumps({"meta": meta, "runs": runs}, indent=2) + "\n")
    lines = [
        "# Load benchmark",
        "",
        f"{meta['machine']}; {meta['store']}. {meta['traffic']}. The load client runs on the",
        "same 2 cores as the servers (and nginx). Targets: 0 errors (no 5xx, timeouts or 429) and",
        "no lost vote: every (voter, paper) in the store equals the last accepted toggle.",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run['backend']}: {run['workers']} worker(s), proxy: {run['proxy']}",
            "",
            f"{run['requests']:,} requests in {run['seconds']:.0f} s = {run['req_per_s']:,.1f} "
            f"req/s; errors: {run['error_count']}; accepted toggles: {run['accepted_toggles']:,} "
            f"over {run['compared_pairs']:,} (voter, paper) pairs, lost votes: "
            f"{run['lost_votes']}; subscriptions: {run['subscriptions']:,}, missing: "
            f"{run['missing_subscriptions']}. Machine load average (1/5/15 min) after the run: "
            f"{' / '.join(str(x) for x in run.get('load_average_after', []))}.",
            "",
            *format_table(run),
            "",
        ]
    (RESULTS / "load.md").write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=WARMUP_SECONDS)
    parser.add_argument("--cache", type=Path, default=Path("/work/bench-cache/load"))
    parser.add_argument("--pg-database", default=PG_DATABASE, help="cached PostgreSQL database")
    parser.add_argument("--lock", type=Path, help="take this lock file exclusively while timing")
    parser.add_argument("--no-write", action="store_true", help="print only (trials)")
    args = parser.parse_args()
    if not (SHARED / "data" / "arxiv_sample.jsonl.gz").exists():
        sys.exit(f"the shared data is missing: {SHARED / 'data'}")
    runs = [run_backend(backend, args) for backend in args.backends]
    if not args.no_write:
        write_results(runs, args)
    for run in runs:
        print("\n".join(format_table(run)))


if __name__ == "__main__":
    main()
