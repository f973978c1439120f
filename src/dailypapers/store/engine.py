"""Engines for SQLite and PostgreSQL: connection settings, pragmas and transaction modes.

SQLite pragmas (WAL, foreign keys, busy timeout) are set here and nowhere else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from dailypapers.errors import ConfigurationError
from dailypapers.store import outages

# A writer waits this long for another's lock before SQLite gives up with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Page cache per connection (negative = KiB): big enough for the hot index pages of a bulk import.
SQLITE_CACHE_KIB = 65_536
_WRITE_OPTION = "dailypapers_write"


class Database:
    """One store: an engine, plus read and write transactions that behave alike on both backends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Threads of this process queue here for it instead of
        # in SQLite's busy handler, which polls with sleeps of up to 100 ms: under a burst of
        # votes that polling, not the writes, set the latency (#9). Other processes still meet
        # at the busy timeout.
        self._local_writer = threading.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def backend(self) -> str:
        return "sqlite" if self.engine.dialect.name == "sqlite" else "postgresql"

    @property
    def reads_in_process(self) -> bool:
        """A read is a library call on a local file (SQLite), not a wait on the network."""
        return self.backend == "sqlite"

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction; on SQLite it takes the write lock up front (BEGIN IMMEDIATE).

        Taking it up front avoids the deferred-upgrade deadlock, where two readers both try to
        become the writer and one fails at once regardless of the busy timeout.
        """
        queued = self._local_writer is not None and self._local_writer.acquire(
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
        )
        try:
            with (
                self.engine.connect().execution_options(**{_WRITE_OPTION: True}) as conn,
                conn.begin(),
            ):
                yield conn
        finally:
            if queued:
                assert self._local_writer is not None
                self._local_writer.release()

    def database_bytes(self) -> int | None:
        if self.backend == "sqlite":
            path = self.engine.url.database
            if not path or path == ":memory:":
                return None
            files = [Path(path), Path(path + "-wal")]
            return sum(f.stat().st_size for f in files if f.exists())
        from sqlalchemy import text

        with self.read() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return int(size) if size is not None else None

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str, **engine_options: Any) -> Database:
    """Open the store at `url`, creating the SQLite file's folder if needed.

    A database that is down, restarting, locked or out of disk raises StoreUnavailable
    (store/outages.py); the pool's pre-ping reconnects once it is back.
    """
    parsed = make_url(url)
    # Errors and logs never carry statement parameters (emails, tokens, hashes).
    engine_options.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url, **engine_options)
        outages.install(engine)
        return Database(engine)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        try:
            engine = create_engine(url, pool_pre_ping=True, **engine_options)
        except ModuleNotFoundError as exc:  # the driver is the postgres extra
            raise ConfigurationError(
                f"PostgreSQL needs its driver, which is not installed ({exc.name}): "
                "pip install 'dailypapers[postgres]'"
            ) from exc
        outages.install(engine)
        return Database(engine)
    raise ConfigurationError(
        f"unsupported database URL {parsed.render_as_string(hide_password=True)!r}: "
        "use sqlite:///PATH or postgresql://..."
    )


def _sqlite_engine(url: str, **engine_options: Any) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **engine_options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event own transaction starts, not the driver's implicit BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
