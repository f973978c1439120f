"""Web benchmark: wrk against `dailypapers serve` (1 worker) over the 115k arXiv papers and the
HF featured days from ../shared/data.

Per route, a wrk Lua script rotates over the route's URLs (>= 1,000 paper ids, every featured
date), so no single cached URL carries the figure. Throughput: 64 connections for 30 s.
Latency p50/p99: 8 connections. Writes bench/results/web.json and bench/results/web.md.

    .venv/bin/python bench/web.py [--duration 30] [--latency-duration 15] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("DAILYPAPERS_SHARED_DIR", REPO.parent / "shared"))
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
THROUGHPUT_CONNECTIONS = 64
LATENCY_CONNECTIONS = 8
# One wrk thread: the machine has 2 cores and the server's one worker needs the other.
WRK_THREADS = 1
PAPER_IDS = 2_000
TARGETS = {"page": {"rps": 300}, "json": {"rps": 500}, "p99_ms": 50}

LUA = """
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, env=env, check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(data_dir: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    run([str(BIN / "dailypapers"), "init"], env)
    for name in ("arxiv_sample.jsonl.gz", "hf_daily_papers.jsonl.gz"):
        run([str(BIN / "dailypapers"), "import", "--quiet", str(SHARED / "data" / name)], env)
    return time.perf_counter() - started


def url_sets(database: Path) -> dict[str, list[str]]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as conn:
        days = [
            str(d)[:10] for (d,) in conn.execute(text("SELECT DISTINCT featured_on FROM featured"))
        ]
        ids = [i for (i,) in conn.execute(text("SELECT arxiv_id FROM papers WHERE hidden = 0"))]
        featured = [i for (i,) in conn.execute(text("SELECT arxiv_id FROM featured"))]
    engine.dispose()
    rng = random.Random(3)
    # Half featured papers (what readers open), half from the whole arXiv sample.
    chosen = rng.sample(featured, PAPER_IDS // 2) + rng.sample(ids, PAPER_IDS // 2)
    return {
        "/": ["/"],
        "/papers?date=": [f"/papers?date={d}" for d in days],
        "/papers/{id}": [f"/papers/{i}" for i in chosen],
        "/api/daily_papers?date=": [f"/api/daily_papers?date={d}" for d in days],
        "/api/papers/{id}": [f"/api/papers/{i}" for i in chosen],
    }


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not answer {url}")


def check_urls(base: str, paths: list[str]) -> None:
    """Every URL must answer 200: a benchmark of 404 pages would flatter nobody."""
    for path in paths[:: max(1, len(paths) // 50)]:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            assert response.status == 200, path


def wrk(base: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", out)[1]),  # type: ignore[index]
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out)[1]),  # type: ignore[index]
        "non_2xx": int(errors[1]) if errors else 0,
        "socket_errors": socket_errors[1] if socket_errors else "",
    }


def _ms(value: str) -> float:
    number = float(re.match(r"[\d.]+", value)[0])  # type: ignore[index]
    unit = value[len(re.match(r"[\d.]+", value)[0]) :]  # type: ignore[index]
    return round(number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=30, help="throughput run, seconds")
    parser.add_argument("--latency-duration", type=int, default=15, help="latency run, seconds")
    parser.add_argument("--keep", type=Path, help="reuse/keep this data folder")
    parser.add_argument(
        "--routes", nargs="+", help="only these routes (a quick check; results are not written)"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian package wrk)")
    data_dir = args.keep or Path(tempfile.mkdtemp(prefix="dailypapers-bench-web-"))
    env = {
        **os.environ,
        "DAILYPAPERS_DATA_DIR": str(data_dir),
        "DAILYPAPERS_LOG_LEVEL": "WARNING",
        # wrk is one client address: the per-address limits (#10) would answer it 429.
        "DAILYPAPERS_RATE_LIMITS": "off",
    }
    database = data_dir / "dailypapers.sqlite3"
    import_seconds = 0.0 if database.exists() else prepare(data_dir, env)
    # Taken before the server and wrk start: how busy the shared machine was without them.
    args.load_before = round(os.getloadavg()[0], 2)
    urls = url_sets(database)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "dailypapers"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
    )
    results: dict[str, dict[str, float]] = {}
    try:
        wait_for(base + "/healthz")
        for route, paths in urls.items():
            if args.routes and route not in args.routes:
                continue
            check_urls(base, paths)
            script = data_dir / f"bench-{abs(hash(route))}.lua"
            script.write_text(LUA % ", ".join(json.dumps(p) for p in paths))
            wrk(base, script, LATENCY_CONNECTIONS, 3)  # warm-up
            throughput = wrk(base, script, THROUGHPUT_CONNECTIONS, args.duration)
            latency = wrk(base, script, LATENCY_CONNECTIONS, args.latency_duration)
            results[route] = {
                "urls": len(paths),
                "rps_64": throughput["rps"],
                "non_2xx_64": throughput["non_2xx"],
                "rps_8": latency["rps"],
                "p50_ms_8": latency["p50_ms"],
                "p99_ms_8": latency["p99_ms"],
            }
            print(route, results[route], flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if not args.routes:
        write_results(results, import_seconds, args)


def write_results(
    results: dict[str, dict[str, float]], import_seconds: float, args: argparse.Namespace
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "workers": 1,
        "store": "SQLite, 115k arXiv papers + HF featured days",
        "throughput": (
            f"{THROUGHPUT_CONNECTIONS} connections, {args.duration} s, wrk -t{WRK_THREADS}"
        ),
        "latency": f"{LATENCY_CONNECTIONS} connections, {args.latency_duration} s",
        "import_seconds": round(import_seconds, 1),
        # The machine is shared: how busy it was before the run (others' work) and at its end
        # (the server and wrk themselves keep about 2 cores busy), and their niceness.
        "load_average_1m_before": args.load_before,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "niceness": os.nice(0),
        "targets": TARGETS,
    }
    (RESULTS / "web.json").write_text(
        json.dumps({"meta": meta, "routes": results}, indent=2) + "\n"
    )
    lines = [
        "# Web benchmark",
        "",
        f"{meta['machine']}; `dailypapers serve` with 1 worker; {meta['store']}.",
        f"Throughput: {meta['throughput']}. Latency: {meta['latency']}.",
        "Targets: pages >= 300 req/s, JSON >= 500 req/s, p99 <= 50 ms at 8 connections.",
        f"Shared machine: load average {meta['load_average_1m_before']} before the run and"
        f" {meta['load_average_1m_at_end']} at its end (server and wrk busy), niceness"
        f" {meta['niceness']}.",
        "Day lists and /api/daily_papers are served from the per-process list cache (30 s) once",
        "rendered (a miss: 4 prebuilt queries and one render); paper pages and",
        "/api/papers/{id} are computed on every request. No vectors are imported, so the paper",
        "page's similar-papers panel is empty here; bench/search_hybrid.py times vector search.",
        "",
        "| route | URLs rotated | req/s (64 conn) | req/s (8 conn) | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, r in results.items():
        lines.append(
            f"| `{route}` | {r['urls']:,} | {r['rps_64']:,.0f} | {r['rps_8']:,.0f} "
            f"| {r['p50_ms_8']:.1f} | {r['p99_ms_8']:.1f} |"
        )
    (RESULTS / "web.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
