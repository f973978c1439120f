"""backup, restore and export on both backends: an online snapshot taken while a writer keeps
voting and importing is one consistent instant of the store, and restore brings back exactly it.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dailypapers.cli import main
from dailypapers.community.votes import set_vote
from dailypapers.domain import Account
from dailypapers.ingest.importer import import_file
from dailypapers.search.index import SearchIndex
from dailypapers.search.query import parse_query
from dailypapers.search.service import search_papers
from dailypapers.store import Database, open_database
from dailypapers.store import backup as store_backup
from dailypapers.store import users as store_users
from dailypapers.store.schema import metadata, papers, store_meta, users, votes
from tests.conftest import REPO

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
DAILYPAPERS = [sys.executable, "-m", "dailypapers"]
WRITER_USERS = 12
IMPORT_EVERY = 8  # every 8th write is an import of a few new papers


@pytest.fixture
def env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DAILYPAPERS_DATA_DIR": str(tmp_path / "data"),
        "DAILYPAPERS_DATABASE_URL": db_url,
        "DAILYPAPERS_LOG_LEVEL": "WARNING",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAILYPAPERS_SECRET_KEY", raising=False)
    return {**os.environ, **values}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _hf_record(arxiv_id: str, n: int) -> dict[str, Any]:
    return {
        "arxiv_id": arxiv_id,
        "title": f"Backup probe {n} on zygomorphic lattices",
        "abstract": f"A paper the writer imported while the backup ran ({n}).",
        "authors": [f"Probe Author {n}", f"Second Probe {n % 7}"],
        "published": "2026-08-20",
        "daily_date": "2026-08-21",
        "upvotes": 1,
        "num_comments": 0,
    }


class Writer(threading.Thread):
    """One writer: votes, unvotes and imports, serially, recording each committed write."""

    def __init__(self, url: str, accounts: list[Account], paper_ids: list[str], tmp: Path):
        super().__init__(daemon=True)
        self.db = open_database(url)
        self.accounts = accounts
        self.paper_ids = paper_ids
        self.tmp = tmp
        self.stop = threading.Event()
        self.ops: list[tuple[Any, ...]] = []  # ("vote", user_id, arxiv_id, up) | ("import", ids)
        self.error: BaseException | None = None

    def run(self) -> None:
        rng = random.Random(11)
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                if n % IMPORT_EVERY == 0:
                    ids = [f"2699.{n:03d}{k:02d}" for k in range(3)]
                    path = self.tmp / f"probe-{n}.jsonl.gz"
                    with gzip.open(path, "wt", encoding="utf-8") as out:
                        for k, arxiv_id in enumerate(ids):
                            out.write(json.dumps(_hf_record(arxiv_id, n * 10 + k)) + "\n")
                    import_file(self.db, path, parse_in_subprocess=False)
                    self.ops.append(("import", tuple(ids)))
                else:
                    account = rng.choice(self.accounts)
                    arxiv_id = rng.choice(self.paper_ids)
                    up = rng.random() < 0.65
                    set_vote(self.db, account, arxiv_id, upvote=up, now=datetime.now(UTC))
                    self.ops.append(("vote", account.id, arxiv_id, up))
        except BaseException as exc:
            self.error = exc
        finally:
            self.db.dispose()


def _setup_store(env: dict[str, str], tmp_path: Path) -> tuple[Database, list[Account], list[str]]:
    assert run("init")[0] == 0
    code, output = run("import", "--quiet", str(SAMPLE_HF))
    assert code == 0, output
    db = open_database(env["DAILYPAPERS_DATABASE_URL"])
    now = datetime.now(UTC)
    with db.write() as conn:
        accounts = [
            store_users.ensure_user(conn, f"writer{i}@example.org", f"writer-{i}", now)
            for i in range(WRITER_USERS)
        ]
    with db.read() as conn:
        ids = sorted(conn.execute(select(papers.c.arxiv_id)).scalars())[:60]
    return db, accounts, ids


def _state_of(db: Database, user_ids: set[int]) -> tuple[set[tuple[int, str]], set[str]]:
    """The writer's part of a store: its users' votes and its imported papers."""
    with db.read() as conn:
        voted = {
            (int(u), str(p))
            for u, p in conn.execute(select(votes.c.user_id, votes.c.arxiv_id))
            if int(u) in user_ids
        }
        probes = set(
            conn.execute(select(papers.c.arxiv_id).where(papers.c.arxiv_id.like("2699.%")))
            .scalars()
            .all()
        )
    return voted, probes


def _prefixes_matching(ops: list[tuple[Any, ...]], target: tuple[set[Any], set[str]]) -> list[int]:
    """Every count of the writer's first writes whose state is `target`: empty when it is no
    prefix, several when a write changed nothing (an upvote of a pair already upvoted, an
    unvote of one not voted), since those leave the same state as the count before them."""
    voted: set[tuple[int, str]] = set()
    probes: set[str] = set()
    found = [0] if (voted, probes) == target else []
    for done, op in enumerate(ops, start=1):
        if op[0] == "vote":
            _, user_id, arxiv_id, up = op
            (voted.add if up else voted.discard)((user_id, arxiv_id))
        else:
            probes.update(op[1])
        if (voted, probes) == target:
            found.append(done)
    return found


def _orphans(db: Database) -> dict[str, int]:
    checks = {
        "paper_authors": "SELECT count(*) FROM paper_authors pa "
        "LEFT JOIN papers p ON p.arxiv_id = pa.arxiv_id WHERE p.arxiv_id IS NULL",
        "authors": "SELECT count(*) FROM paper_authors pa "
        "LEFT JOIN authors a ON a.id = pa.author_id WHERE a.id IS NULL",
        "votes": "SELECT count(*) FROM votes v LEFT JOIN papers p ON p.arxiv_id = v.arxiv_id "
        "LEFT JOIN users u ON u.id = v.user_id WHERE p.arxiv_id IS NULL OR u.id IS NULL",
        "featured": "SELECT count(*) FROM featured f "
        "LEFT JOIN papers p ON p.arxiv_id = f.arxiv_id WHERE p.arxiv_id IS NULL",
    }
    with db.read() as conn:
        return {name: int(conn.execute(text(sql)).scalar_one()) for name, sql in checks.items()}


def _all_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the restore marker, sorted: two stores compare equal."""
    with db.read() as conn:
        return {
            table.name: sorted(
                (tuple(row) for row in conn.execute(select(table))), key=lambda r: repr(r)
            )
            for table in metadata.sorted_tables
            if table is not store_meta
        }


def _fresh_store_url(env: dict[str, str], tmp_path: Path, name: str) -> str:
    url = env["DAILYPAPERS_DATABASE_URL"]
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name / 'store.sqlite3'}"
    admin_url = make_url(url).set(database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    database = f"{make_url(url).database}_{name}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    if url.startswith("sqlite"):
        return
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _search_titles(db: Database, index_dir: Path, words: str) -> list[str]:
    found = search_papers(db, SearchIndex(index_dir), parse_query(words, limit=50))
    return [hit.paper.title for hit in found.hits]


def test_backup_under_write_load_is_one_instant_and_restore_brings_back_exactly_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    db, accounts, paper_ids = _setup_store(env, tmp_path)
    user_ids = {a.id for a in accounts}
    writer = Writer(env["DAILYPAPERS_DATABASE_URL"], accounts, paper_ids, tmp_path)
    writer.start()
    try:
        while len(writer.ops) < 40:
            time.sleep(0.05)
        before = len(writer.ops)
        snapshot = tmp_path / "snapshot.bak"
        if db.backend == "sqlite":
            # Small steps, and a pause after each, so the writer commits between the steps.
            steps: list[int] = []

            def pause(left: int, total: int) -> None:
                steps.append(left)
                time.sleep(0.01)

            store_backup.backup(db, snapshot, pages_per_step=8, on_step=pause)
            assert len(steps) > 10
        else:
            done = subprocess.run(
                [*DAILYPAPERS, "backup", str(snapshot)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, done.stderr
            assert "backed up" in done.stdout
        during = len(writer.ops) - before
        # A second, CLI-made snapshot while the writer still runs.
        cli_snapshot = tmp_path / "cli-snapshot.bak"
        code, output = run("backup", str(cli_snapshot))
        assert code == 0, output
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert writer.error is None, writer.error
    assert during > 0, "the writer committed nothing while the backup ran"
    assert oct(snapshot.stat().st_mode & 0o777) == oct(0o600)

    # Restore into a fresh store: it holds exactly a prefix of the writer's writes.
    fresh_url = _fresh_store_url(env, tmp_path, "fresh")
    try:
        fresh_env = {"DAILYPAPERS_DATABASE_URL": fresh_url}
        result = CliRunner().invoke(
            main,
            ["restore", str(snapshot)],
            env={**fresh_env, "DAILYPAPERS_DATA_DIR": str(tmp_path / "fresh-data")},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output
        assert "search index rebuilt" in result.output
        fresh = open_database(fresh_url)
        try:
            state = _state_of(fresh, user_ids)
            prefixes = _prefixes_matching(writer.ops, state)
            assert prefixes, "the snapshot is not one instant of the writer's writes"
            # Taken after the first `before` writes committed and before the writer stopped.
            assert any(before <= p <= len(writer.ops) for p in prefixes), (before, prefixes)
            assert _orphans(fresh) == dict.fromkeys(_orphans(fresh), 0)
            with fresh.read() as conn:
                assert conn.execute(select(users.c.id)).first() is not None
            fresh_rows = _all_rows(fresh)
        finally:
            fresh.dispose()

        # The live store moved on: restoring over it needs --force, then equals the snapshot.
        code, output = run("index", "--no-embed")
        assert code == 0, output
        late_probe = _hf_record("2699.99999", 999_999) | {"title": "Quixotic lateness xylophone"}
        late_file = tmp_path / "late.jsonl.gz"
        with gzip.open(late_file, "wt", encoding="utf-8") as out:
            out.write(json.dumps(late_probe) + "\n")
        assert run("import", "--quiet", str(late_file))[0] == 0
        index_dir = tmp_path / "data" / "index"
        assert _search_titles(db, index_dir, "quixotic xylophone") == [late_probe["title"]]
        code, output = run("restore", str(snapshot))
        assert code != 0 and "not empty" in output and "--force" in output
        code, output = run("restore", str(snapshot), "--force")
        assert code == 0, output
        db.dispose()
        assert _all_rows(db) == fresh_rows
        # The index was rebuilt from the restored store: the late paper is gone from search.
        assert _search_titles(db, index_dir, "quixotic xylophone") == []
        assert len(_search_titles(db, index_dir, "zygomorphic lattices")) >= 1
    finally:
        _drop(fresh_url)
        db.dispose()


def _import(db: Database, path: Path, records: list[dict[str, Any]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    import_file(db, path, parse_in_subprocess=False)


def test_a_restored_store_rebuilds_every_index_built_before_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    """Another machine's index replica, caught up past the snapshot before the restore,
    rebuilds on its next catch-up, even once writes after the restore have pushed change_seq
    past its high-water mark (reusing change_seq values it has seen for other papers)."""
    from dailypapers.search.catchup import catch_up

    db, _, _ = _setup_store(env, tmp_path)
    snapshot = tmp_path / "snap.bak"
    assert run("backup", str(snapshot))[0] == 0
    gone = [_hf_record(f"2699.4{n:04d}", n) | {"title": f"Ephemeral quokka {n}"} for n in range(3)]
    _import(db, tmp_path / "gone.jsonl.gz", gone)
    other = SearchIndex(tmp_path / "other-machine-index")
    assert catch_up(db, other).rebuilt
    assert len(_search_titles(db, other.directory, "ephemeral quokka")) == 3
    assert run("restore", str(snapshot), "--force")[0] == 0
    db.dispose()
    after = [_hf_record(f"2699.5{n:04d}", n) | {"title": f"Durable wombat {n}"} for n in range(8)]
    for n, record in enumerate(after):
        _import(db, tmp_path / f"after-{n}.jsonl.gz", [record])
    report = catch_up(db, other)
    assert report.rebuilt
    assert _search_titles(db, other.directory, "ephemeral quokka") == []
    assert len(_search_titles(db, other.directory, "durable wombat")) == 8
    assert not catch_up(db, other).rebuilt
    db.dispose()


def test_backup_and_restore_refuse_odd_paths_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    assert run("init")[0] == 0
    existing = tmp_path / "existing.bak"
    existing.write_text("keep me")
    cases = [
        (("backup", str(existing)), "already exists"),
        (("backup", str(tmp_path / "x" / ".." / "y.bak")), "'..'"),
        (("backup", str(tmp_path)), "folder"),
        (("backup", str(tmp_path / "missing" / "y.bak")), "does not exist"),
        (("backup", f"{tmp_path}/bad\nname.bak"), "not a usable file name"),
        (("restore", str(tmp_path / "nope.bak")), "no such file"),
        (("restore", str(existing)), "not a dailypapers backup"),
        (("export", "--user", "a@example.org", "--output", str(existing)), "already exists"),
    ]
    if env["DAILYPAPERS_DATABASE_URL"].startswith("sqlite"):
        live = make_url(env["DAILYPAPERS_DATABASE_URL"]).database
        cases.append((("backup", str(live), "--force"), "live store"))
    for args, message in cases:
        code, output = run(*args)
        assert code != 0, args
        assert message in output, (args, output)
        assert "Traceback" not in output
    assert existing.read_text() == "keep me"
    assert not list(tmp_path.glob(".*.bak.*")), "a partial file was left behind"


def test_restore_refuses_a_backup_of_the_other_backend(env: dict[str, str], tmp_path: Path) -> None:
    assert run("init")[0] == 0
    other = tmp_path / "other.bak"
    if env["DAILYPAPERS_DATABASE_URL"].startswith("sqlite"):
        other.write_bytes(b"PGDMP" + bytes(100))
    else:
        other.write_bytes(b"SQLite format 3\x00" + bytes(100))
    code, output = run("restore", str(other), "--force")
    assert code != 0 and "same kind of store" in output


def test_export_writes_a_users_own_data_and_nothing_of_others(
    env: dict[str, str], tmp_path: Path
) -> None:
    db, accounts, paper_ids = _setup_store(env, tmp_path)
    now = datetime.now(UTC)
    me, other = accounts[0], accounts[1]
    set_vote(db, me, paper_ids[0], upvote=True, now=now)
    set_vote(db, me, paper_ids[1], upvote=True, now=now)
    set_vote(db, other, paper_ids[2], upvote=True, now=now)
    with db.write() as conn:
        conn.execute(
            text(
                "INSERT INTO comments (arxiv_id, user_id, body, created_at) VALUES (:p, :u, :b, :t)"
            ),
            [
                {"p": paper_ids[0], "u": me.id, "b": "My own comment", "t": now},
                {"p": paper_ids[0], "u": other.id, "b": "Someone else's", "t": now},
            ],
        )
        conn.execute(
            text(
                "INSERT INTO subscribers (email, frequency, status, user_id, created_at, "
                "preferences) VALUES (:e, 'weekly', 'confirmed', :u, :t, :p)"
            ),
            {"e": me.email, "u": me.id, "t": now, "p": json.dumps({"keywords": ["graphs"]})},
        )
        conn.execute(
            text("INSERT INTO saved_searches (user_id, query, created_at) VALUES (:u, :q, :t)"),
            {"u": me.id, "q": "diffusion sort:new", "t": now},
        )
    code, output = run("export", "--user", me.email.upper())
    assert code == 0, output
    data = json.loads(output)
    assert data["format"] == "dailypapers-user-export"
    assert data["profile"]["email"] == me.email
    assert sorted(v["arxiv_id"] for v in data["votes"]) == sorted(paper_ids[:2])
    assert [c["body"] for c in data["comments"]] == ["My own comment"]
    assert data["subscriptions"][0]["preferences"] == {"keywords": ["graphs"]}
    assert [s["query"] for s in data["saved_searches"]] == ["diffusion sort:new"]
    assert data["submissions"] == []
    assert "token_hash" not in output and other.email not in output

    target = tmp_path / "me.json"
    code, output = run("export", "--user", me.email, "--output", str(target))
    assert code == 0, output
    assert json.loads(target.read_text())["votes"] == data["votes"]
    assert oct(target.stat().st_mode & 0o777) == oct(0o600)

    code, output = run("export", "--user", "nobody@example.org")
    assert code != 0 and "no account uses the address nobody@example.org" in output
    code, output = run("export", "--user", "not an address")
    assert code != 0 and "valid email address" in output
    db.dispose()


def test_a_snapshot_from_before_a_migration_restores_into_a_newer_store(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A snapshot taken at schema 0005 restored into a store at head: the tables migrations
    added since go too (PostgreSQL's pg_restore --clean drops only what the snapshot has), so
    the pending migrations apply cleanly and the store is exactly the snapshot's, upgraded."""
    from dailypapers.store.migrate import current_revision, downgrade, head_revision

    db, _, _ = _setup_store(env, tmp_path)
    downgrade(db, "0005")
    before = _all_rows(db)
    snapshot = tmp_path / "old.bak"
    store_backup.backup(db, store_backup.check_new_file(snapshot, force=False, db=db))
    assert run("migrate")[0] == 0
    store_backup.new_restore_epoch(db, datetime.now(UTC))
    _import(db, tmp_path / "later.jsonl.gz", [_hf_record("2699.60001", 1)])
    if db.backend == "postgresql":  # another application's table in the same database
        with db.write() as conn:
            conn.execute(text("CREATE TABLE not_ours (note text)"))
            conn.execute(text("INSERT INTO not_ours VALUES ('keep me')"))

    code, output = run("restore", str(snapshot), "--force")
    assert code == 0, output
    assert "applied migrations 0006" in output
    db.dispose()
    assert current_revision(db) == head_revision()
    assert _all_rows(db) == before  # the later paper is gone
    with db.read() as conn:
        assert conn.execute(select(store_meta.c.value)).scalars().all() != []
        if db.backend == "postgresql":  # only the store's own tables were replaced
            assert conn.execute(text("SELECT note FROM not_ours")).scalars().all() == ["keep me"]


def test_a_snapshot_damaged_halfway_changes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    """The first half of a good snapshot: restore fails with a message, and the store keeps every
    row (PostgreSQL: no COMMIT is sent unless pg_restore read the whole snapshot)."""
    db, _, _ = _setup_store(env, tmp_path)
    snapshot = tmp_path / "whole.bak"
    assert run("backup", str(snapshot))[0] == 0
    half = tmp_path / "half.bak"
    data = snapshot.read_bytes()
    half.write_bytes(data[: len(data) // 2])
    _import(db, tmp_path / "later.jsonl.gz", [_hf_record("2699.60002", 2)])
    before = _all_rows(db)
    code, output = run("restore", str(half), "--force")
    assert code != 0
    assert "Error:" in output and "Traceback" not in output, output
    db.dispose()
    assert _all_rows(db) == before
