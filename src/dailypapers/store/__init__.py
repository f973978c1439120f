"""The store: all SQL lives in this package, behind functions that return domain values."""

from sqlalchemy import Connection

from dailypapers.store.engine import Database, open_database

# Connection is re-exported as a type only: use cases pass a transaction between store calls.
__all__ = ["Connection", "Database", "open_database"]
