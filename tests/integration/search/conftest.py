"""Fixtures of the search tests: stores holding the real sample papers, imported once per session
and cloned per test (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dailypapers.search import SearchIndex, catch_up
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from tests.integration.search.support import import_samples


@pytest.fixture
def index(tmp_path: Path) -> SearchIndex:
    """An index folder, read without the reopen delay so each step sees the last publication."""
    return SearchIndex(tmp_path / "index", reopen_check_seconds=0.0)


@pytest.fixture(scope="session")
def sqlite_sample_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search-template") / "sample.sqlite3"
    db = open_database(f"sqlite:///{path}")
    upgrade(db)
    import_samples(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_sample_template(pg_admin_url: str) -> Iterator[str]:
    name = f"dp_search_tmpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = open_database(make_url(pg_admin_url).set(database=name).render_as_string(False))
    upgrade(db)
    import_samples(db)
    db.dispose()
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _clone_sample(request: pytest.FixtureRequest, folder: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        path = folder / "store.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_sample_template"), path)
        db = open_database(f"sqlite:///{path}")
        yield db
        db.dispose()
        return
    template: str = request.getfixturevalue("pg_sample_template")
    admin_url: str = request.getfixturevalue("pg_admin_url")
    name = f"dp_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    db = open_database(make_url(admin_url).set(database=name).render_as_string(False))
    try:
        yield db
    finally:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def sample_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated store holding the real sample papers, fresh for each test, on each backend."""
    with _clone_sample(request, tmp_path) as db:
        yield db


@pytest.fixture(scope="module", params=BACKENDS)
def searchable(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, SearchIndex]]:
    """The sample store and its index, shared by a module's read-only tests, on each backend."""
    folder = tmp_path_factory.mktemp("searchable")
    with _clone_sample(request, folder) as db:
        index = SearchIndex(folder / "index")
        catch_up(db, index)
        yield db, index
