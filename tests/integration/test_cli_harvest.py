"""`dailypapers harvest` end to end: the CLI against a loopback server replaying real OAI pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.store import Database
from tests.integration.replay_server import OaiList, ReplayServer, oai_list


@pytest.fixture
def pages() -> OaiList:
    return oai_list([3, 2, 2, 2])


@pytest.fixture
def server(pages: OaiList) -> Iterator[ReplayServer]:
    with ReplayServer(pages.respond) as replay:
        yield replay


def test_harvest_command_stores_every_page_and_a_rerun_resumes_incrementally(
    db: Database,
    db_url: str,
    server: ReplayServer,
    tmp_path: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", db_url)
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DAILYPAPERS_ARXIV_OAI_URL", f"{server.url}/oai")
    monkeypatch.setenv("DAILYPAPERS_ARXIV_MIN_INTERVAL_SECONDS", "0.01")
    runner = CliRunner()
    args = ["harvest", "--set", "physics:hep-ex", "--from", "2017-12-14", "--until", "2017-12-14"]
    first = runner.invoke(main, args, catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "4 pages, 9 papers (9 new or changed), 0 rejected" in first.output
    again = runner.invoke(main, args, catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "9 papers (0 new or changed)" in again.output


def test_harvest_command_rejects_a_reversed_date_range(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", db_url)
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["harvest", "--from", "2020-02-01", "--until", "2020-01-01"])
    assert result.exit_code == 1
    assert "is after --until" in result.output
