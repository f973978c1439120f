"""Live web servers for the integration tests: one per backend for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.web_server import LiveServer, build_services, populate, serve


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app under uvicorn on loopback, over a SQLite store with the sample imported."""
    tmp = tmp_path_factory.mktemp("web-sqlite")
    services = build_services(tmp / "data")
    populate(services, tmp)
    with serve(services) as server:
        yield server
    services.close()


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client() as client:
        yield client


@pytest.fixture(scope="session")
def pg_live_server(
    tmp_path_factory: pytest.TempPathFactory, pg_admin_url: str
) -> Iterator[LiveServer]:
    """The same app over a PostgreSQL database made for this session and dropped after it."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"dp_web_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    tmp = tmp_path_factory.mktemp("web-pg")
    services = build_services(tmp / "data", database_url=url)
    try:
        populate(services, tmp)
        with serve(services) as server:
            yield server
    finally:
        services.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
