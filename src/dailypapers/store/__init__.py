"""The store: all SQL lives in this package, behind functions that return domain values."""

from dailypapers.store.engine import Database, open_database

__all__ = ["Database", "open_database"]
