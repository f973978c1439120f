"""One request budget for arXiv, kept in the store: the spacing holds across requests and processes.

Spacing is measured where arXiv would measure it, on the server side.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from dailypapers.config import Settings
from dailypapers.ingest.harvest import harvest
from dailypapers.store import Database, open_database
from dailypapers.store.limits import StoreRateSlots
from dailypapers.store.migrate import upgrade
from tests.conftest import REPO
from tests.integration.harvest_child import open_sources
from tests.integration.replay_server import ReplayServer, oai_list

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_a_turn_is_taken_once_and_the_next_waits_the_interval(db: Database) -> None:
    slots = StoreRateSlots(db, "arxiv")
    assert slots.try_take(T0, 3.0) == 0.0
    assert slots.try_take(T0, 3.0) == pytest.approx(3.0)
    assert slots.try_take(T0 + timedelta(seconds=1), 3.0) == pytest.approx(2.0)
    assert slots.try_take(T0 + timedelta(seconds=3), 3.0) == 0.0
    assert slots.next_allowed_at() == T0 + timedelta(seconds=6)


def test_pushing_back_never_brings_the_next_turn_forward(db: Database) -> None:
    slots = StoreRateSlots(db, "arxiv")
    slots.push_back(T0 + timedelta(seconds=30))
    slots.push_back(T0 + timedelta(seconds=10))
    assert slots.next_allowed_at() == T0 + timedelta(seconds=30)
    assert slots.try_take(T0 + timedelta(seconds=20), 3.0) == pytest.approx(10.0)
    assert StoreRateSlots(db, "other-upstream").try_take(T0, 3.0) == 0.0


@pytest.mark.slow
def test_the_default_three_second_spacing_holds_between_real_requests(sqlite_url: str) -> None:
    interval = Settings().arxiv_min_interval_seconds
    assert interval == 3.0
    db = open_database(sqlite_url)
    upgrade(db)
    pages = oai_list([3, 3, 3])
    with (
        ReplayServer(pages.respond) as server,
        open_sources(db, server.url, interval=interval) as arxiv,
    ):
        harvest(db, arxiv.oai, set_spec="physics")
    db.dispose()
    assert len(server.seen) == 3
    assert min(server.gaps()) >= 3.0


def test_two_harvester_processes_sharing_the_store_keep_the_spacing_between_them(
    db: Database,
) -> None:
    interval = 0.25
    pages = oai_list([3, 2, 2, 2])
    url = db.engine.url.render_as_string(hide_password=False)
    with ReplayServer(pages.respond) as server:
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.integration.harvest_child",
                    url,
                    server.url,
                    set_spec,
                    str(interval),
                ],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for set_spec in ("physics:hep-ex", "physics:hep-th")
        ]
        outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    assert [out for out, _ in outputs] == ['{"pages": 4, "records": 9}\n'] * 2
    assert len(server.seen) == 8
    assert len({s.client_port for s in server.seen}) == 2
    assert min(server.gaps()) >= interval
