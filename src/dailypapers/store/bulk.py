"""Fast executemany for bulk writes: compile a statement once, hand rows straight to the driver.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert on the import path,
so bulk writes compile once and let the DBAPI cursor loop (sqlite3's executemany in C; psycopg's
pipeline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Date, DateTime
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


def execute_many(conn: Connection, stmt: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> int:
    """Run `stmt` once per row; return the driver's count of rows written.

    The statement must bind only the rows' keys: write constants with literal_column, not values.
    """
    if not rows:
        return 0
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0].keys()))
    assert isinstance(compiled, SQLCompiler)
    names = list(compiled.positiontup or ()) if compiled.positional else None
    expected = set(compiled.binds)
    missing = expected - rows[0].keys()
    if missing:
        raise ValueError(f"rows lack bound parameters {sorted(missing)}")
    params: list[Any]
    if names is not None:
        # Convert only the columns whose SQL type needs it: this runs for every row of an import.
        converted = {n for n in names if _needs_text(compiled.binds[n].type)}
        params = [
            tuple(_to_sqlite(row[n]) if n in converted else row[n] for n in names) for row in rows
        ]
    else:
        params = [{name: row[name] for name in expected} for row in rows]
    result = conn.exec_driver_sql(str(compiled), params)
    return max(result.rowcount, 0)


def _needs_text(sql_type: Any) -> bool:
    python_type = getattr(sql_type, "impl", sql_type)
    return isinstance(python_type, DateTime | Date | Boolean)


def _to_sqlite(value: Any) -> Any:
    """The text SQLAlchemy's SQLite types store, so bulk rows read back like ORM-written ones."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value
