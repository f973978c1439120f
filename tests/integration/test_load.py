"""A short, low-concurrency run of bench/load.py's traffic in the test suite: correctness only.

`dailypapers serve` in its own process(es) over the bundled sample, 8 connections for a few
seconds of mixed reading, voting and subscribing; then no errors, and the store holds every
(voter, paper) exactly as the last accepted toggle left it. Timing belongs to bench/load.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from dailypapers.cli import main
from dailypapers.config import Settings
from dailypapers.services import secret_key
from dailypapers.store import open_database
from dailypapers.store.schema import votes
from tests.conftest import REPO
from tests.integration.deployment import run_serve
from tests.integration.load_traffic import LOAD_SETTINGS, check_store, drive, make_target

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
DAILYPAPERS = [sys.executable, "-m", "dailypapers"]
SECONDS = 5
CONNECTIONS = 8
# Correctness, not speed: a request this slow means a hang (a deadlock, a lost connection), not
# a busy machine. The benchmark uses 5 s.
TIMEOUT_SECONDS = 60


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
        with run_serve(
            tmp_path / "data",
            tmp_path / "serve.log",
            workers=workers,
            metrics_dir=tmp_path / "metrics",
            env=values,
        ) as served:
            target = make_target(db, secret_key(settings), served.url, voters=40, vote_papers=30)
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
