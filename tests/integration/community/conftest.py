"""One community server per backend for the session: the sample store, SMTP on loopback, and
arXiv's API replayed from real captures. Limits are high here; tests of limits use their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.integration.community.support import Community, community_settings, respond
from tests.integration.replay_server import ReplayServer
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import build_services, populate, serve


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def arxiv_replay() -> Iterator[ReplayServer]:
    with ReplayServer(respond) as server:
        yield server


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def community(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_sink: SmtpSink,
    arxiv_replay: ReplayServer,
) -> Iterator[Community]:
    tmp = tmp_path_factory.mktemp(f"community-{request.param}")
    url = None
    admin = None
    if request.param == "postgres":
        admin_url: str = request.getfixturevalue("pg_admin_url")
        name = f"dp_community_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    services = build_services(
        tmp / "data", database_url=url, **community_settings(smtp_sink, arxiv_replay)
    )
    try:
        populate(services, tmp)
        with serve(services) as server:
            rig = Community(server, smtp_sink, arxiv_replay)
            yield rig
            rig.close_clients()
    finally:
        services.close()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
