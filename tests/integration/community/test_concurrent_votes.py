"""50 users vote on one paper at the same moment through `dailypapers serve --workers 4` on
PostgreSQL: exactly 50 votes land, and the shown count is the baseline plus count(*).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.community.support import Community, csrf_of, new_email
from tests.integration.replay_server import ReplayServer
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import (
    HOSTILE_ID,
    TEST_SECRET,
    LiveServer,
    build_services,
    populate,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
VOTERS = 50


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@pytest.fixture
def four_workers(
    pg_url: str, tmp_path: Path, smtp_sink: SmtpSink, arxiv_replay: ReplayServer
) -> Iterator[Community]:
    services = build_services(tmp_path / "data", database_url=pg_url)
    populate(services, tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "DAILYPAPERS_DATABASE_URL": pg_url,
        "DAILYPAPERS_DATA_DIR": str(tmp_path / "data"),
        "DAILYPAPERS_SECRET_KEY": TEST_SECRET,
        "DAILYPAPERS_SMTP_URL": smtp_sink.url,
        "DAILYPAPERS_BASE_URL": "http://testserver.invalid",
        "DAILYPAPERS_SIGNIN_RATE_LIMIT_PER_HOUR_PER_IP": "1000",
        "DAILYPAPERS_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "dailypapers", "serve", "--workers", "4", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, "serve exited"
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer within 30 s"
            time.sleep(0.2)
        rig = Community(LiveServer(url, services), smtp_sink, arxiv_replay)
        yield rig
        rig.close_clients()
    finally:
        server.terminate()
        server.wait(timeout=30)
        services.close()


def test_fifty_simultaneous_votes_on_four_workers_count_exactly_fifty(
    four_workers: Community,
) -> None:
    community = four_workers
    with ThreadPoolExecutor(max_workers=10) as pool:
        voters = list(pool.map(lambda _: community.sign_in(new_email("voter")), range(VOTERS)))
    tokens = [csrf_of(client, "/account") for client in voters]
    baseline = int(community.client().get(f"/api/papers/{HOSTILE_ID}").json()["upvotes"])
    start = threading.Barrier(VOTERS)

    def vote(index: int) -> httpx.Response:
        start.wait(timeout=30)  # release every request together
        return voters[index].post(
            f"/papers/{HOSTILE_ID}/upvote",
            data={"csrf": tokens[index], "value": "1"},
            headers={"Accept": "application/json"},
        )

    with ThreadPoolExecutor(max_workers=VOTERS) as pool:
        answers = list(pool.map(vote, range(VOTERS)))
    assert [a.status_code for a in answers] == [200] * VOTERS
    assert max(a.json()["upvotes"] for a in answers) == baseline + VOTERS
    assert community.local_votes(HOSTILE_ID) == VOTERS
    shown = community.client().get(f"/api/papers/{HOSTILE_ID}").json()["upvotes"]
    assert shown == baseline + community.local_votes(HOSTILE_ID) == baseline + VOTERS
