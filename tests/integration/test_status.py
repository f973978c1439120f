"""Freshness status on both backends: /status, `dailypapers status` and the report behind them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.catalog.status import compute_status, describe_status
from dailypapers.cli import main
from dailypapers.domain import ImportCounts, PaperRecord
from dailypapers.search.catchup import catch_up
from dailypapers.search.index import SearchIndex
from dailypapers.services import Services
from dailypapers.store import Database
from dailypapers.store.harvests import finish_cursor, start_cursor
from dailypapers.store.ingest_runs import finish_run, start_run
from dailypapers.store.papers import upsert_papers
from dailypapers.web.app import create_app
from tests.integration.web_server import build_services

# Saturday 2026-09-26, 11:00 Eastern; Thursday evening's announcement was 2026-09-25 00:00 UTC.
SATURDAY = datetime(2026, 9, 26, 15, 0, tzinfo=UTC)
THURSDAY_ANNOUNCEMENT = datetime(2026, 9, 25, 0, 0, tzinfo=UTC)


def _run(
    db: Database, source: str, at: datetime, *, seen: int = 0, error: str | None = None
) -> None:
    run_id = start_run(db, source, now=at - timedelta(minutes=5))
    counts = ImportCounts(lines=seen, papers_seen=seen, papers_changed=seen)
    status = "failed" if error else "ok"
    finish_run(db, run_id, counts, status=status, now=at, error=error)


def _services(db: Database, data_dir: Path, **settings: Any) -> Services:
    """Services over the test's store `db`, every other part built from the settings."""
    return replace(build_services(data_dir / "data", **settings), db=db)


def test_a_saturday_after_thursdays_harvest_says_no_announcement_today(
    db: Database, tmp_path: Path
) -> None:
    _run(
        db,
        "oai-pmh arXiv set=cs 2026-09-24..*",
        THURSDAY_ANNOUNCEMENT + timedelta(hours=3),
        seen=42,
    )
    _run(db, "rss cs.LG", SATURDAY - timedelta(hours=2), error="arXiv answered 503 five times")
    start_cursor(db, "cs", "arXiv", from_date=None, until_date=None, now=THURSDAY_ANNOUNCEMENT)
    finish_cursor(db, "cs", "arXiv", last_datestamp=date(2026, 9, 24), now=THURSDAY_ANNOUNCEMENT)
    report = compute_status(db, SearchIndex(tmp_path / "index"), now=SATURDAY)
    assert report.lag.state == "no_announcement_today"
    assert report.healthy
    assert report.last_harvest is not None
    assert report.last_harvest.papers_seen == 42
    assert [c.set_spec for c in report.cursors] == ["cs"]
    assert report.index.generation is None
    facts = describe_status(report)
    assert facts["freshness"] == "No arXiv announcement today (Saturday)."
    assert facts["last harvest records"] == 42
    assert facts["index"] == "not built yet"
    assert facts["failed runs"] == ["2026-09-26 12:55 UTC rss cs.LG: arXiv answered 503 five times"]


def test_a_harvest_missing_thursdays_announcement_is_late_and_the_index_is_read(
    db: Database, tmp_path: Path
) -> None:
    _run(db, "oai-pmh arXiv set=* *..*", THURSDAY_ANNOUNCEMENT - timedelta(hours=20), seen=7)
    with db.write() as conn:
        upsert_papers(
            conn, [PaperRecord("2609.00001", "A title", "An abstract", ("A",))], now=SATURDAY
        )
    index = SearchIndex(tmp_path / "index")
    catch_up(db, index)
    report = compute_status(db, index, now=SATURDAY)
    assert report.lag.state == "late"
    assert not report.healthy
    assert report.lag.message == "The harvest is late by 39 hours."
    assert report.index.documents == 1
    assert report.index.behind == 0
    assert describe_status(report)["index"].endswith("1 papers, caught up")


def test_the_status_page_shows_the_lag_and_answers_503_when_late(
    db: Database, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    _run(db, "oai-pmh arXiv set=cs *..*", now - timedelta(days=30), seen=3)
    _run(db, "oai-pmh arXiv set=math *..*", now - timedelta(days=1), error="truncated page 2")
    client = TestClient(create_app(_services(db, tmp_path)))
    page = client.get("/status")
    assert page.status_code == 503
    assert "The harvest is late by" in page.text
    assert "truncated page 2" in page.text
    _run(db, "rss cs.LG", now, seen=5)
    fresh = client.get("/status")
    assert fresh.status_code == 200
    assert "5 records" in fresh.text


def test_the_status_command_prints_json_and_exits_1_when_late(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", db_url)
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    never = runner.invoke(main, ["status", "--json"], catch_exceptions=False)
    assert never.exit_code == 0, never.output
    assert json.loads(never.output)["freshness"] == "Nothing has been harvested from arXiv yet."
    _run(db, "oai-pmh arXiv set=cs *..*", datetime.now(UTC) - timedelta(days=30))
    late = runner.invoke(main, ["status"], catch_exceptions=False)
    assert late.exit_code == 1
    assert "The harvest is late by" in late.output


def test_a_harvest_driven_empty_day_names_arxivs_quiet_evening(
    db: Database, tmp_path: Path
) -> None:
    services = _services(db, tmp_path, feature_rule="categories", feature_categories=["cs.LG"])
    client = TestClient(create_app(services))
    friday = client.get("/papers/date/2026-11-27")
    assert "No arXiv announcement for" in friday.text
    assert "Thanksgiving" in friday.text
    saturday = client.get("/papers/date/2026-09-26")
    assert "the evening before: Friday" in saturday.text
    community = TestClient(create_app(_services(db, tmp_path)))
    assert "No arXiv announcement" not in community.get("/papers/date/2026-09-26").text
