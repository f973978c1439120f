"""Consistent online snapshots of the store, and restoring them.

SQLite: the backup API, copying pages in steps from the raw sqlite3 connection while the server
keeps writing. PostgreSQL: pg_dump's custom format and pg_restore (store/pg_tools.py). A snapshot
is written beside its destination and renamed into place, so a failed backup leaves nothing. A
restore stamps a new restore epoch into the store: every search index built before it rebuilds.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import inspect, text

from dailypapers.errors import Conflict, InvalidRequest, StoreUnavailable
from dailypapers.store import outages, pg_tools
from dailypapers.store.changes import RESTORE_EPOCH
from dailypapers.store.engine import Database
from dailypapers.store.schema import metadata, paper_change_seq, store_meta
from dailypapers.store.upserts import insert_for

# Pages copied per backup step (4 MiB at SQLite's default 4 KiB pages). Between steps the source
# connection keeps its read transaction, so the copy is one snapshot and writers never wait.
SQLITE_PAGES_PER_STEP = 1_024
# Rows in any of these make a store "not empty": restoring over it needs --force.
_CONTENT_TABLES = ("papers", "users", "subscribers", "votes", "comments")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_MAGIC = b"PGDMP"


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    backend: str
    bytes: int
    seconds: float


def check_file_argument(path: Path, *, must_exist: bool) -> Path:
    """A file path given on the command line, checked before anything is written or read.

    Refuses control characters, '..' segments and directories: a clean InvalidRequest, not an
    OSError half-way through. Returns the absolute path.
    """
    raw = str(path)
    if not raw or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise InvalidRequest(f"{raw!r} is not a usable file name")
    if ".." in path.parts:
        raise InvalidRequest(f"{raw}: give a path without '..' segments")
    if path.name in ("", ".") or raw.endswith(os.sep):
        raise InvalidRequest(f"{raw}: give a file name, not a folder")
    full = path.absolute()
    if full.is_dir():
        raise InvalidRequest(f"{raw} is a folder: give a file name")
    if must_exist and not full.is_file():
        raise InvalidRequest(f"{raw}: no such file")
    if not must_exist and not full.parent.is_dir():
        raise InvalidRequest(f"{raw}: the folder {full.parent} does not exist")
    return full


def check_new_file(path: Path, *, force: bool, db: Database | None = None) -> Path:
    """A file about to be written: refused when it exists (unless `force`), and always when it
    is one of the live SQLite store's files."""
    full = check_file_argument(path, must_exist=False)
    for kept in _live_files(db):
        if full.resolve() == kept.resolve():
            raise InvalidRequest(f"{path} is the live store itself: write elsewhere")
    if (full.exists() or full.is_symlink()) and not force:
        raise Conflict(f"{path} already exists: pass --force to overwrite it")
    return full


def _live_files(db: Database | None) -> tuple[Path, ...]:
    if db is None or db.backend != "sqlite" or not db.engine.url.database:
        return ()
    main = Path(db.engine.url.database)
    return (main, Path(f"{main}-wal"), Path(f"{main}-shm"), Path(f"{main}-journal"))


@contextlib.contextmanager
def atomic_file(destination: Path) -> Iterator[Path]:
    """A temporary path beside `destination`, renamed over it when the block succeeds."""
    handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(destination)
        with contextlib.suppress(OSError):
            folder = os.open(destination.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
    finally:
        partial.unlink(missing_ok=True)


def backup(
    db: Database,
    destination: Path,
    *,
    pages_per_step: int = SQLITE_PAGES_PER_STEP,
    on_step: Callable[[int, int], None] | None = None,
) -> int:
    """Write a consistent snapshot of the live store to `destination`; its size in bytes.

    `destination` must have been checked (check_new_file): it is replaced atomically. SQLite
    calls `on_step(pages_left, pages_total)` after each step of `pages_per_step` pages.
    """
    with atomic_file(destination) as partial:
        if db.backend == "sqlite":
            try:
                _sqlite_backup(db, partial, pages_per_step, on_step)
            except sqlite3.OperationalError as exc:  # the raw driver: outages.py does not see it
                Path(f"{partial}-journal").unlink(missing_ok=True)
                name = getattr(exc, "sqlite_errorname", "SQLITE_ERROR")
                raise StoreUnavailable(
                    f"the backup could not be written: {outages.sqlite_outage(name)} ({exc})"
                ) from None
        else:
            pg_tools.dump(db.engine.url, partial, _server_version(db))
    return destination.stat().st_size


def _sqlite_backup(
    db: Database,
    partial: Path,
    pages_per_step: int,
    on_step: Callable[[int, int], None] | None,
) -> None:
    with db.engine.connect() as conn:
        source: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
        # A read transaction held across every step pins one WAL snapshot: the copy is
        # consistent, never restarts because another connection wrote, and writers carry on.
        source.execute("BEGIN")
        try:
            source.execute("SELECT count(*) FROM sqlite_master").fetchone()
            target = sqlite3.connect(partial, isolation_level=None)
            try:
                source.backup(
                    target,
                    pages=pages_per_step,
                    progress=(lambda _s, left, total: on_step(left, total)) if on_step else None,
                )
                # A snapshot is one self-contained file: no -wal beside it.
                target.execute("PRAGMA journal_mode=DELETE")
                problems = target.execute("PRAGMA quick_check").fetchone()[0]
                if problems != "ok":
                    raise Conflict(f"the snapshot failed its integrity check: {problems}")
            finally:
                target.close()
        finally:
            source.execute("ROLLBACK")


def snapshot_backend(path: Path) -> str:
    """'sqlite' or 'postgresql', from the file's first bytes; InvalidRequest for anything else."""
    with path.open("rb") as file:
        head = file.read(len(_SQLITE_MAGIC))
    if head == _SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(_PG_MAGIC):
        return "postgresql"
    raise InvalidRequest(f"{path} is not a dailypapers backup (neither SQLite nor pg_dump -Fc)")


def is_empty(db: Database) -> bool:
    """True when the store has no schema yet, or none of its content tables has a row."""
    with db.read() as conn:
        present = set(inspect(conn).get_table_names())
        for table in _CONTENT_TABLES:
            if table in present and conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():
                return False
    return True


def restore(db: Database, snapshot: Path, *, force: bool) -> None:
    """Replace the store's content with `snapshot`, in one transaction; all or nothing.

    Refuses a snapshot of the other backend, and a non-empty store unless `force`.
    """
    kind = snapshot_backend(snapshot)
    if kind != db.backend:
        raise InvalidRequest(
            f"{snapshot} is a {kind} backup and this store is {db.backend}: "
            "a backup restores into the same kind of store"
        )
    if not force and not is_empty(db):
        raise Conflict(f"the store {db.url} is not empty: pass --force to replace its content")
    if kind == "sqlite":
        _sqlite_restore(db, snapshot)
    else:
        pg_tools.restore(
            db.engine.url,
            snapshot,
            _server_version(db),
            tables=[*(t.name for t in metadata.sorted_tables), "alembic_version"],
            sequences=[paper_change_seq.name],
        )


def _sqlite_restore(db: Database, snapshot: Path) -> None:
    source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    try:
        try:
            problems = source.execute("PRAGMA quick_check").fetchone()[0]
            tables = {r[0] for r in source.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:  # cut short, or not a database at all
            raise InvalidRequest(f"{snapshot} is damaged: {exc}") from exc
        if problems != "ok":
            raise InvalidRequest(f"{snapshot} is damaged: {problems}")
        if "alembic_version" not in tables:
            raise InvalidRequest(f"{snapshot} is a SQLite file but not a dailypapers store")
        # One step: the whole copy is a single write transaction on the live file, so every
        # other connection (a running server's too) sees the old store or the restored one.
        # Renaming a file over a database that servers hold open would lose their writes and
        # could pair the new file with the old one's -wal; the backup API cannot.
        with db.engine.connect() as conn:
            target: sqlite3.Connection = conn.connection.driver_connection  # type: ignore[assignment]
            try:
                source.backup(target, pages=-1)
            except sqlite3.OperationalError as exc:
                raise Conflict(f"could not restore into {db.url}: {exc}") from exc
    finally:
        source.close()
    # Pooled connections may cache the old schema's statements: start them afresh.
    db.engine.dispose()


def new_restore_epoch(db: Database, now: datetime) -> str:
    """Mark the store as restored: a fresh epoch that every search index will notice."""
    epoch = secrets.token_hex(8)
    with db.write() as conn:
        stmt = insert_for(conn, store_meta).values(key=RESTORE_EPOCH, value=epoch, updated_at=now)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[store_meta.c.key],
                set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
            )
        )
    return epoch


def _server_version(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar_one())
