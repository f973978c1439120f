"""A full disk during import, index build and backup, on a size-capped tmpfs holding the data
directory: each command ends with a clear error (exit 1, no traceback), the store passes its
integrity check, the previous index generation stays current and readable, no partial file is
left behind, and the same command succeeds once there is room again.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dailypapers.cli import main
from dailypapers.config import Settings
from dailypapers.search.index import SearchIndex
from tests.conftest import require
from tests.integration.hostile.conftest import HOSTILE_RECORDS, write_jsonl
from tests.integration.web_server import SAMPLE_ARXIV

DISK_MIB = 48


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A DISK_MIB tmpfs mounted for this test (we run as root in CI's container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MIB}m,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
    )
    require(done.returncode == 0, f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(disk: Path, leave_bytes: int) -> Path:
    """Take all but `leave_bytes` of the disk with one file; delete it to make room again."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as out:
        out.truncate(0)
        chunk = b"\0" * (1 << 20)
        left = max(0, free - leave_bytes)
        while left > 0:
            left -= out.write(chunk[: min(len(chunk), left)])
    return filler


def _cli(disk: Path, *args: str) -> Result:
    env = {"DAILYPAPERS_DATA_DIR": str(disk / "data"), "DAILYPAPERS_CONFIG_FILE": ""}
    return CliRunner().invoke(main, list(args), env=env)


def _clean_failure(result: Result) -> None:
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "Error:" in result.output, result.output
    assert "full" in result.output.lower() or "space" in result.output.lower(), result.output


def _integrity(disk: Path) -> str:
    conn = sqlite3.connect(disk / "data" / "dailypapers.sqlite3")
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _index(disk: Path) -> SearchIndex:
    settings = Settings(data_dir=disk / "data", environment="development")
    return SearchIndex(settings.data_dir / "index")


def _started(disk: Path, tmp_path: Path) -> int:
    """init and a small import: a store and an index generation to keep."""
    assert _cli(disk, "init").exit_code == 0
    small = write_jsonl(tmp_path / "small.jsonl.gz", HOSTILE_RECORDS[:1])
    result = _cli(disk, "import", "--quiet", str(small))
    assert result.exit_code == 0, result.output
    generation = _index(disk).current_generation()
    assert generation is not None
    return generation


@pytest.mark.slow
def test_a_full_disk_during_import_fails_clearly_and_a_rerun_finishes(
    disk: Path, tmp_path: Path
) -> None:
    generation = _started(disk, tmp_path)
    filler = _fill(disk, leave_bytes=256 * 1024)
    result = _cli(disk, "import", "--quiet", "--batch-size", "200", str(SAMPLE_ARXIV))
    _clean_failure(result)
    filler.unlink()
    assert _integrity(disk) == "ok"
    assert _index(disk).current_generation() == generation
    again = _cli(disk, "import", "--quiet", str(SAMPLE_ARXIV))
    assert again.exit_code == 0, again.output
    assert _index(disk).current_generation() != generation


@pytest.mark.slow
def test_a_full_disk_during_an_index_build_keeps_the_previous_generation(
    disk: Path, tmp_path: Path
) -> None:
    generation = _started(disk, tmp_path)
    index_dir = disk / "data" / "index"
    before = sorted(p.name for p in index_dir.iterdir())
    # Room for SQLite's shared-memory file, none for a new index generation.
    filler = _fill(disk, leave_bytes=64 * 1024)
    result = _cli(disk, "index", "--rebuild", "--no-embed", "--quiet")
    _clean_failure(result)
    assert _index(disk).current_generation() == generation
    assert sorted(p.name for p in index_dir.iterdir()) == before, "a partial generation was left"
    opened = _index(disk).open_generation(generation)
    assert opened.meta.generation == generation
    filler.unlink()
    rebuilt = _cli(disk, "index", "--rebuild", "--no-embed", "--quiet")
    assert rebuilt.exit_code == 0, rebuilt.output


@pytest.mark.slow
def test_a_full_disk_during_backup_leaves_no_partial_file(disk: Path, tmp_path: Path) -> None:
    _started(disk, tmp_path)
    _cli(disk, "import", "--quiet", str(SAMPLE_ARXIV))  # enough pages that a copy needs room
    filler = _fill(disk, leave_bytes=64 * 1024)
    target = disk / "backups" / "store.sqlite3"
    target.parent.mkdir()
    result = _cli(disk, "backup", str(target))
    _clean_failure(result)
    assert list(target.parent.iterdir()) == [], "a partial backup was left behind"
    filler.unlink()
    assert _cli(disk, "backup", str(target)).exit_code == 0
    assert target.stat().st_size > 0
