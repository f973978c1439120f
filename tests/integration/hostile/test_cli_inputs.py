"""The command line fed hostile files: JSON-lines dumps in each format, vector files and their ids,
TOML settings and file paths. Each ends in a clean error (a message, exit status != 0, no
traceback) or a clean import with the bad records rejected; nothing is stored half-way.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from dailypapers.cli import main
from dailypapers.store import open_database
from dailypapers.store.schema import ingest_runs, paper_vectors, papers
from tests.integration.hostile.corpus import (
    BAD_JSON,
    CONTROL,
    DEEP_JSON,
    DEEP_OBJECT,
    INVALID_UTF8,
    LONE_SURROGATE_UTF8,
    MEGABYTE,
    NUL,
    PATH_TRAVERSAL,
    XSS,
)

GOOD_HF = {
    "arxiv_id": "2605.08001",
    "title": "A fine paper",
    "abstract": "Words.",
    "authors": ["Ann Author"],
    "published": "2026-05-01",
    "daily_date": "2026-05-06",
    "upvotes": 3,
    "num_comments": 0,
}
GOOD_ARXIV = {"arxiv_id": "2605.08002", "title": "An arXiv record", "authors": ["B"]}
GOOD_KAGGLE = {
    "id": "2605.08003",
    "title": "A Kaggle record",
    "abstract": "x",
    "authors": "C. Person",
    "versions": [{"version": "v1", "created": "Mon, 4 May 2026 10:00:00 GMT"}],
}


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory after `dailypapers init`, copied for each test (init is the slow part)."""
    data = tmp_path_factory.mktemp("cli-template") / "data"
    env = {"DAILYPAPERS_DATA_DIR": str(data), "DAILYPAPERS_CONFIG_FILE": ""}
    assert CliRunner().invoke(main, ["init"], env=env).exit_code == 0
    return data


@pytest.fixture
def cli(tmp_path: Path, initialised: Path) -> tuple[CliRunner, dict[str, str]]:
    shutil.copytree(initialised, tmp_path / "data")
    env = {"DAILYPAPERS_DATA_DIR": str(tmp_path / "data"), "DAILYPAPERS_CONFIG_FILE": ""}
    return CliRunner(), env


def _run(cli: tuple[CliRunner, dict[str, str]], *args: str) -> Result:
    runner, env = cli
    return runner.invoke(main, list(args), env=env)


def _clean_error(result: Result) -> str:
    """The result of a refused command: a message and exit status 1 or 2, no traceback."""
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert "Error" in result.output, result.output
    return result.output


def _count(tmp: Path, table: Any) -> int:
    db = open_database(f"sqlite:///{tmp / 'data' / 'dailypapers.sqlite3'}")
    try:
        with db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        db.dispose()


def _lines(path: Path, lines: list[bytes], *, gz: bool = False) -> Path:
    raw = b"".join(line + b"\n" for line in lines)
    path.write_bytes(gzip.compress(raw) if gz else raw)
    return path


def _j(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


@pytest.mark.parametrize(
    ("fmt", "good", "id_key"),
    [("hf", GOOD_HF, "arxiv_id"), ("arxiv", GOOD_ARXIV, "arxiv_id"), ("kaggle", GOOD_KAGGLE, "id")],
)
def test_an_import_rejects_each_hostile_record_and_keeps_the_good_ones(
    cli: tuple[CliRunner, dict[str, str]],
    tmp_path: Path,
    fmt: str,
    good: dict[str, Any],
    id_key: str,
) -> None:
    hostile: list[bytes] = [
        _j(good),
        DEEP_JSON.encode(),
        DEEP_OBJECT.encode(),
        *[b.encode() for b in BAD_JSON],
        b"\x00\x00\x00",
        INVALID_UTF8,
        LONE_SURROGATE_UTF8,
        _j({**good, "title": MEGABYTE}),
        _j({**good, id_key: "../../etc/passwd"}),
        _j({**good, id_key: "2605.08009' OR '1'='1"}),
        _j({**good, id_key: XSS[0]}),
        _j({**good, "title": None}),
        _j({**good, "authors": {"nested": [[[["x"]]]]}}),
        _j({**good, "title": ["list", "title"]}),
        _j({**good, "upvotes": -5, "num_comments": 1e308}),
        _j({**good, "daily_date": "2026-02-30"}),
        _j([good]),
        b'{"a": "' + b"b" * (20 * 1024 * 1024) + b'"}',  # one line longer than the line limit
    ]
    texty = {**good, id_key: good[id_key].replace("800", "801"), "title": NUL + CONTROL + XSS[0]}
    hostile.append(_j(texty))
    path = _lines(tmp_path / f"hostile.{fmt}.jsonl", hostile)
    result = _run(cli, "import", "--format", fmt, "--quiet", str(path))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    rejects = list((tmp_path / "data" / "rejects").glob("*.rejects.jsonl"))
    assert rejects, result.output
    reasons = [json.loads(line) for line in rejects[0].read_text().splitlines()]
    assert len(reasons) >= 17, reasons  # the broken lines, in every format
    assert all(r["error"] for r in reasons)
    db = open_database(f"sqlite:///{tmp_path / 'data' / 'dailypapers.sqlite3'}")
    with db.read() as conn:
        stored = {
            r.arxiv_id: r.title for r in conn.execute(select(papers.c.arxiv_id, papers.c.title))
        }
    db.dispose()
    assert good[id_key] in stored and texty[id_key] in stored, stored
    assert all(re.fullmatch(r"\d{4}\.\d{4,5}", i) for i in stored), stored
    titles = list(stored.values())
    assert not [t for t in titles if "\x00" in t or "\x1b" in t], titles


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\x1f\x8b\x08\x00truncated gzip",
        gzip.compress(b'{"arxiv_id": "2605.1"}\n')[:-12],
        b"not json at all\n" * 3,
        b"[" * 10_000,
        INVALID_UTF8 * 10,
        b'{"no_known_format": 1}\n',
    ],
)
def test_an_unreadable_or_unknown_file_is_a_clean_error_and_stores_nothing(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(content)
    result = _run(cli, "import", "--quiet", str(path))
    if result.exit_code == 0:  # an empty or all-rejected file is a clean, empty import
        assert "0 papers" in result.output, result.output
    else:
        _clean_error(result)
    assert _count(tmp_path, papers) == 0


@pytest.mark.parametrize("target", [*PATH_TRAVERSAL, "/dev/null", "/tmp"])
def test_file_options_refuse_what_is_not_a_regular_file(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path, target: str
) -> None:
    for args in (
        ["import", target],
        ["vectors", "import", target, "--ids", target],
        ["--config", target, "config", "show"],
    ):
        result = _run(cli, *args)
        if args[0] == "import" and target == "/etc/passwd":
            # A real file the operator named: read as JSON lines, every line rejected.
            assert result.exit_code != 0 or "0 papers" in result.output, result.output
            assert "Traceback" not in result.output
            continue
        _clean_error(result)
    assert _count(tmp_path, papers) == 0


def test_rejects_written_outside_the_data_dir_only_where_asked(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path
) -> None:
    path = _lines(tmp_path / "in.jsonl", [_j(GOOD_HF), b"{bad"])
    for target in ("/proc/self/status", str(tmp_path), str(path / "under-a-file.jsonl")):
        result = _run(cli, "import", "--quiet", "--rejects", target, str(path))
        _clean_error(result)
    assert _count(tmp_path, papers) == 0
    assert _count(tmp_path, ingest_runs) == 0  # refused before the run was recorded


def _npy(path: Path, array: Any) -> Path:
    np.save(path, array, allow_pickle=True)
    return path


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b"\x93NUMPY garbage"),
        lambda p: p.write_bytes(b"not an npy file at all"),
        lambda p: p.write_bytes(b""),
        lambda p: _npy(p, np.array([{"pickle": "payload"}], dtype=object)),
        lambda p: _npy(p, np.zeros((2, 3), dtype=np.float32)),
        lambda p: _npy(p, np.zeros((2, 384), dtype=np.int64)),
        lambda p: _npy(p, np.zeros((2, 384, 2), dtype=np.float32)),
        lambda p: _npy(p, np.full((2, 384), np.nan, dtype=np.float32)),
        lambda p: _npy(p, np.full((2, 384), np.inf, dtype=np.float16)),
        lambda p: _npy(p, np.zeros((3, 384), dtype=np.float32)),  # 3 rows for 2 ids
    ],
)
def test_a_bad_vector_file_is_a_clean_error_and_stores_nothing(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path, make: Any
) -> None:
    known = [_j({**GOOD_HF, "arxiv_id": i}) for i in ("2310.06825", "2310.01798")]
    assert _run(cli, "import", "--quiet", str(_lines(tmp_path / "k.jsonl", known))).exit_code == 0
    vectors = tmp_path / "v.npy"
    make(vectors)
    ids = tmp_path / "v.ids.txt"
    ids.write_text("2310.06825\n2310.01798\n")
    _clean_error(_run(cli, "vectors", "import", str(vectors), "--ids", str(ids)))
    assert _count(tmp_path, paper_vectors) == 0


@pytest.mark.parametrize(
    "ids",
    [INVALID_UTF8, b"\x00\x00\n\x00\n", b"", (XSS[0] + "\n" + "' OR 1=1 --\n").encode()],
)
def test_a_bad_ids_file_is_a_clean_error_and_stores_nothing(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path, ids: bytes
) -> None:
    vectors = _npy(tmp_path / "v.npy", np.zeros((2, 384), dtype=np.float16))
    ids_path = tmp_path / "v.ids.txt"
    ids_path.write_bytes(ids)
    result = _run(cli, "vectors", "import", str(vectors), "--ids", str(ids_path))
    if result.exit_code == 0:  # ids that are simply unknown are skipped and said so
        assert "0 vectors" in result.output and "2 ids not in the store" in result.output
    else:
        _clean_error(result)
    assert _count(tmp_path, paper_vectors) == 0


@pytest.mark.parametrize(
    "toml",
    [
        b"not = [valid toml",
        INVALID_UTF8,
        b'import_batch_size = "lots"\n',
        b"no_such_setting = 1\n",
        b'database_url = "mysql://root@localhost/x"\n',
        b'mail_from = "a@example.org\\r\\nBcc: everyone@example.org"\n',
        b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        b"\x00\x00",
    ],
)
def test_a_hostile_settings_file_is_a_clean_error(
    cli: tuple[CliRunner, dict[str, str]], tmp_path: Path, toml: bytes
) -> None:
    config = tmp_path / "bad.toml"
    config.write_bytes(toml)
    _clean_error(_run(cli, "--config", str(config), "stats"))


@pytest.mark.slow
def test_the_real_command_prints_no_traceback_for_a_hostile_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00garbage")
    (tmp_path / "bad.ids.txt").write_text("2310.06825\n")
    env = {"DAILYPAPERS_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "dailypapers"]
    subprocess.run([*run, "init"], env=env, check=True, capture_output=True)
    done = subprocess.run([*run, "vectors", "import", str(bad)], env=env, capture_output=True)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr and b"Error:" in done.stderr, done.stderr
