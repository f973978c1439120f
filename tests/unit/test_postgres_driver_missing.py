"""PostgreSQL's driver is the `postgres` extra (#18): a PostgreSQL URL without it installed is a
ConfigurationError naming the extra, not a traceback from SQLAlchemy's dialect loader."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.conftest import REPO

WITHOUT_PSYCOPG = """
import sys
sys.modules["psycopg"] = None  # as if the extra were not installed: importing it fails
from dailypapers.errors import ConfigurationError
from dailypapers.store.engine import open_database
try:
    open_database("postgresql://user@127.0.0.1:5432/test")
except ConfigurationError as exc:
    print(exc)
"""


def test_a_postgres_url_without_the_driver_names_the_extra() -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(WITHOUT_PSYCOPG)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "pip install 'dailypapers[postgres]'" in result.stdout
    assert "psycopg" in result.stdout
