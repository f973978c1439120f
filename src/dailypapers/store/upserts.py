"""The dialect's INSERT, which knows ON CONFLICT: the one place community writes pick a dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(conn: Connection, table: Table) -> Any:
    """postgresql.insert or sqlite.insert: both share the on_conflict_* API."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
