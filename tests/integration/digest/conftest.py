"""A fresh sample store per test on both backends, copied from one populated template per run
(a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), with the app and an SMTP
sink on loopback.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dailypapers.services import Services
from dailypapers.web.app import create_app
from tests.integration.digest.support import ScriptedSink, make_services
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import build_services, populate


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("digest-template")
    services = build_services(tmp / "data")
    populate(services, tmp)
    services.close()
    return tmp / "data" / "dailypapers.sqlite3"


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"dp_digest_tpl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    tmp = tmp_path_factory.mktemp("digest-pg-template")
    services = build_services(tmp / "data", database_url=url)
    populate(services, tmp)
    services.close()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "store.sqlite3"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    admin_url: str = request.getfixturevalue("pg_admin_url")
    name = f"dp_digest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sink() -> Iterator[ScriptedSink]:
    running = ScriptedSink()
    with running:
        yield running


def services_for(tmp: Path, url: str, sink: SmtpSink, **more: object) -> Services:
    return make_services(tmp, url, sink, **more)


@pytest.fixture
def services(tmp_path: Path, store_url: str, sink: ScriptedSink) -> Iterator[Services]:
    made = make_services(tmp_path, store_url, sink)
    yield made
    made.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as made:
        yield made
