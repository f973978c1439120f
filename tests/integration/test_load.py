"""A short, low-concurrency run of bench/load.py's traffic in the test suite: correctness only.

`dailypapers serve` in its own process(es) over the bundled sample, 8 connections for a few
seconds of mixed reading, voting and subscribing; then no errors, and the store holds every
(voter, paper) exactly as the last accepted toggle left it. Timing belongs to bench/load.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from dailypapers.cli import main
from dailypapers.config import Settings
from dailypapers.services import secret_key
from dailypapers.store import open_database
from dailypapers.store.schema import votes
from tests.conftest import REPO
from tests.integration.load_traffic import LOAD_SETTINGS, check_store, drive, make_target

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
DAILYPAPERS = [sys.executable, "-m", "dailypapers"]
SECONDS = 5
CONNECTIONS = 8
# Correctness, not speed: a request this slow means a hang (a deadlock, a lost connection), not
# a busy machine. The benchmark uses 5 s.
TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(env: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    """`dailypapers serve` on a free loopback port until the block ends."""
    port = _free_port()
    with log.open("w") as out:
        server = subprocess.Popen(
            [*DAILYPAPERS, "serve", "--port", str(port), "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_mixed_load_loses_no_vote_and_answers_every_request(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "DAILYPAPERS_DATA_DIR": str(tmp_path / "data"),
        "DAILYPAPERS_DATABASE_URL": db_url,
        "DAILYPAPERS_ENVIRONMENT": "development",
        **LOAD_SETTINGS,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAILYPAPERS_SECRET_KEY", raising=False)
    for args in (["init"], ["import", "--quiet", str(SAMPLE_HF)]):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
    settings = Settings()
    db = open_database(db_url)
    workers = 1 if db.backend == "sqlite" else 2
    try:
        with serve({**os.environ, **values}, workers, tmp_path / "serve.log") as base:
            target = make_target(db, secret_key(settings), base, voters=40, vote_papers=30)
            result = drive(
                target, seconds=SECONDS, connections=CONNECTIONS, timeout_seconds=TIMEOUT_SECONDS
            )
        summary = result.summary()
        assert summary["error_count"] == 0, summary["errors"]
        assert result.accepted_toggles >= 5, summary
        assert result.subscribed, summary
        assert set(summary["routes"]) >= {"/", "/papers/{id}", "/search?q="}
        check = check_store(db, target, result)
        assert check.compared_pairs >= 5
        assert check.ok, (check.lost_votes[:10], check.missing_subscriptions[:10])
        # The checker itself catches a lost vote: take one accepted upvote away behind its back.
        user_id, arxiv_id = next(p for p, up in result.expected_votes.items() if up)
        with db.write() as conn:
            conn.execute(
                delete(votes).where(votes.c.user_id == user_id, votes.c.arxiv_id == arxiv_id)
            )
        assert check_store(db, target, result).lost_votes == [(user_id, arxiv_id, True, False)]
    finally:
        db.dispose()
