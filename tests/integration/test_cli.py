"""The command line on the real click group and real stores; serve through uvicorn on loopback."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from dailypapers.cli import main
from dailypapers.search.index import SearchIndex
from dailypapers.search.query import parse_query
from dailypapers.search.service import search_papers
from dailypapers.store import open_database
from dailypapers.store.schema import paper_authors, papers
from tests.conftest import REPO

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
DAILYPAPERS = [sys.executable, "-m", "dailypapers"]


@pytest.fixture
def env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"DAILYPAPERS_DATA_DIR": str(tmp_path / "data"), "DAILYPAPERS_DATABASE_URL": db_url}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAILYPAPERS_SECRET_KEY", raising=False)
    return {**os.environ, **values}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_init_writes_a_private_secret_key_and_migrates(env: dict[str, str], tmp_path: Path) -> None:
    code, output = run("init")
    key_file = tmp_path / "data" / "secret_key"
    assert code == 0, output
    assert "applied migrations 0001" in output
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 32
    key = key_file.read_text()
    code, output = run("init")
    assert "kept the existing secret key" in output and "schema is up to date" in output
    assert key_file.read_text() == key


def test_import_prints_a_summary_and_stats_count_it(env: dict[str, str], tmp_path: Path) -> None:
    run("init")
    code, output = run("import", "--quiet", str(SAMPLE_HF))
    assert code == 0, output
    assert "804 papers (804 new or changed)" in output
    assert "over 40 featured days" in output and "0 rejected" in output
    code, output = run("stats")
    assert code == 0
    assert "featured days    40" in output
    assert "2026-06-29 to 2026-08-21" in output


def test_import_reports_where_rejects_went(env: dict[str, str], tmp_path: Path) -> None:
    run("init")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"arxiv_id": "2501.00001", "title": "ok", "daily_date": "2025-01-01"}\n{oops\n')
    code, output = run("import", str(bad))
    assert code == 0
    assert "1 rejected" in output
    reject_file = tmp_path / "data" / "rejects" / "bad.jsonl.rejects.jsonl"
    assert str(reject_file) in output
    assert '"line": 2' in reject_file.read_text()


def test_import_refuses_before_migrations_and_on_an_unknown_format(env: dict[str, str]) -> None:
    code, output = run("import", str(SAMPLE_HF))
    assert code != 0 and "migration(s) pending" in output and "dailypapers migrate" in output
    run("migrate")
    code, output = run("import", "--format", "csv", str(SAMPLE_HF))
    assert code == 2 and "Invalid value for '--format'" in output


def test_config_show_masks_secrets(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "s3cr3t-" * 8)
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", "postgresql://alice:hunter2@db:5432/papers")
    code, output = run("config", "show")
    assert code == 0
    assert "s3cr3t" not in output and "hunter2" not in output
    assert "secret_key = ********" in output
    assert "database_url = postgresql://alice:********@db:5432/papers" in output


def test_a_toml_file_sets_values_and_the_environment_overrides_it(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "dailypapers.toml"
    config.write_text('site_name = "Lab papers"\ntrending_half_life_hours = 12.5\n')
    _, output = run("--config", str(config), "config", "show")
    assert "site_name = Lab papers" in output and "trending_half_life_hours = 12.5" in output
    monkeypatch.setenv("DAILYPAPERS_SITE_NAME", "Env papers")
    _code, output = run("--config", str(config), "config", "show")
    assert "site_name = Env papers" in output


def test_a_bad_setting_is_a_clear_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_TRENDING_HALF_LIFE_HOURS", "-1")
    code, output = run("config", "show")
    assert code == 1
    assert "bad settings" in output and "trending_half_life_hours" in output


def test_serve_refuses_a_placeholder_secret_and_pending_migrations(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "changeme")
    code, output = run("serve", "--port", "1")
    assert code == 1 and "placeholder" in output
    monkeypatch.setenv("DAILYPAPERS_SECRET_KEY", "x" * 40)
    code, output = run("serve", "--port", "1")
    assert code == 1 and "migration(s) pending" in output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_healthz_and_lists_real_papers(env: dict[str, str]) -> None:
    run("init")
    run("import", "--quiet", str(SAMPLE_HF))
    port = free_port()
    server = subprocess.Popen(
        [*DAILYPAPERS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert json.loads(r.read())["status"] == "ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            page = response.read().decode()
        with gzip.open(SAMPLE_HF, "rt") as handle:
            last_day = max(line.split('"daily_date": "')[1][:10] for line in handle)
        assert last_day in page
        assert page.count('class="card"') > 5
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_an_import_killed_mid_way_keeps_whole_batches_and_a_rerun_finishes(
    env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    """SIGKILL a real import process after some batches, then rerun it to completion."""
    run("init")
    source = tmp_path / "many.jsonl"
    with gzip.open(REPO / "sample" / "arxiv.sample.jsonl.gz", "rt") as handle:
        records = [json.loads(line) for line in handle]
    # Ten copies under fresh ids: enough batches that the kill lands mid-way.
    with source.open("w") as out:
        for copy in range(10):
            for number, record in enumerate(records):
                record["arxiv_id"] = f"{2101 + copy}.{number:05d}"
                out.write(json.dumps(record) + "\n")
    total, batch = 10 * len(records), 200
    command = [*DAILYPAPERS, "import", "--quiet", "--batch-size", str(batch), str(source)]
    db = open_database(db_url)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        count = 0
        while count < 3 * batch:
            assert process.poll() is None, "import finished before it could be killed"
            assert time.monotonic() < deadline
            with db.read() as conn:
                count = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        with db.read() as conn:
            kept = conn.execute(select(func.count()).select_from(papers)).scalar_one()
            links = conn.execute(select(func.count()).select_from(paper_authors)).scalar_one()
            linked = conn.execute(select(func.count(paper_authors.c.arxiv_id.distinct()))).scalar()
        assert 0 < kept < total
        assert kept % batch == 0, "a half-written batch survived the kill"
        assert linked == kept and links >= kept
        rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr
        assert f"{total:,} papers ({total - kept:,} new or changed)" in rerun.stdout
        with db.read() as conn:
            assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == total
    finally:
        if process.poll() is None:
            process.kill()
        db.dispose()


def test_two_imports_of_the_same_file_at_once_both_succeed_and_agree(
    env: dict[str, str], db_url: str
) -> None:
    """Writers serialise on SQLite's lock and on PostgreSQL's row locks; neither fails."""
    run("init")
    source = REPO / "sample" / "arxiv.sample.jsonl.gz"
    command = [*DAILYPAPERS, "import", "--quiet", "--batch-size", "100", str(source)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    changed = [
        int(out.decode().split("papers (")[1].split(" new")[0].replace(",", ""))
        for out, _ in outputs
    ]
    assert sum(changed) == 2_000
    db = open_database(db_url)
    with gzip.open(source, "rt") as handle:
        expected_links = sum(len(set(json.loads(line)["authors"])) for line in handle)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 2_000
        links = conn.execute(select(func.count()).select_from(paper_authors)).scalar_one()
    db.dispose()
    assert links == expected_links


def test_imported_papers_are_findable_at_once_and_index_rebuild_works(
    env: dict[str, str], db_url: str, tmp_path: Path
) -> None:
    run("init")
    code, output = run("import", "--quiet", str(SAMPLE_HF))
    assert code == 0
    assert "search index rebuilt: generation 1, 804 papers, 804 written" in output
    with gzip.open(SAMPLE_HF, "rt") as handle:
        title = json.loads(handle.readline())["title"]
    db = open_database(db_url)
    try:
        index = SearchIndex(tmp_path / "data" / "index")
        found = search_papers(db, index, parse_query(title, limit=1))
        assert found.hits[0].paper.title == title
        code, output = run("index", "--no-embed")
        assert "caught up" in output and "0 written" in output
        code, output = run("index", "--rebuild", "--no-embed")
        assert code == 0
        assert "rebuilt: generation" in output and "804 written" in output
    finally:
        db.dispose()
