"""Quiet by default (#18): the one-shot commands `make demo` runs print one line per step and no
log records; `-v` brings the records back, and a log_level that is set is kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SAMPLE = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"


def _run(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dailypapers", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    return {**clean, "DAILYPAPERS_DATA_DIR": str(tmp_path / "data")}


def test_init_and_import_print_one_line_a_step_and_no_log_records(env: dict[str, str]) -> None:
    init = _run(env, "init")
    imported = _run(env, "import", str(SAMPLE))
    assert len(init.splitlines()) == 2, init  # the key, the schema
    assert len(imported.splitlines()) == 2, imported  # the papers, the index
    assert "INFO" not in init + imported


def test_verbose_brings_the_records_back(env: dict[str, str]) -> None:
    _run(env, "init")
    verbose = _run(env, "-v", "import", str(SAMPLE))
    assert "INFO dailypapers.search.catchup" in verbose, verbose


def test_a_log_level_that_is_set_is_kept(env: dict[str, str]) -> None:
    _run(env, "init")
    kept = _run({**env, "DAILYPAPERS_LOG_LEVEL": "INFO"}, "import", str(SAMPLE))
    assert "INFO dailypapers.search.catchup" in kept, kept
