"""Turn the database being down, restarting, locked or out of disk into `StoreUnavailable`.

Installed on every engine by `open_database`. Only failures of the server or the disk are
translated; a wrong query or a constraint violation stays what it is (a bug, or the caller's).
The pre-ping is left alone, so the pool still reconnects by itself once the server is back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import InterfaceError, OperationalError

from dailypapers.errors import StoreUnavailable

# SQLite result codes that mean the file or the disk, not the statement (sqlite3 names them).
_SQLITE_OUTAGES = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_READONLY",
)


def sqlite_outage(name: str) -> str:
    """What an SQLite result code means to the person running the command."""
    if name == "SQLITE_FULL":
        return "the disk holding the database is full"
    if name.startswith("SQLITE_IOERR"):
        return "the database file could not be read or written (is its disk full or failing?)"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "the database is busy with another writer"
    return "the database file cannot be opened or written"


def install(engine: Engine) -> None:
    event.listen(engine, "handle_error", _translate)


def _translate(context: Any) -> None:
    if context.is_pre_ping:
        return
    original = context.original_exception
    if context.engine is not None and context.engine.dialect.name == "sqlite":
        name = str(getattr(original, "sqlite_errorname", ""))
        if name.startswith(_SQLITE_OUTAGES):
            raise StoreUnavailable(
                f"{sqlite_outage(name)} ({name}: {original})", retry_after_seconds=30
            ) from context.sqlalchemy_exception
        return
    if context.is_disconnect or isinstance(
        context.sqlalchemy_exception, OperationalError | InterfaceError
    ):
        first_line = str(original).strip().splitlines()[0] if str(original).strip() else ""
        raise StoreUnavailable(
            f"the database cannot be reached just now ({first_line or type(original).__name__})"
        ) from context.sqlalchemy_exception
