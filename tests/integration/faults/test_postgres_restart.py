"""PostgreSQL stops in the middle of traffic and comes back: while it is down every request gets a
clean 503 (an HTML page or the JSON error, with Retry-After), never a 500 or a hang; once it is
back the same server answers 200 again without a restart. Runs on a private cluster.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dailypapers.store.migrate import upgrade
from tests.integration.faults.private_pg import private_cluster
from tests.integration.hostile.conftest import HOSTILE_RECORDS, XSS_ID, write_jsonl
from tests.integration.web_server import build_services, serve

PATHS = ("/", f"/papers/{XSS_ID}", f"/api/papers/{XSS_ID}", "/api/daily_papers", "/healthz")


def _traffic(url: str, stop: threading.Event, seen: Counter[int]) -> None:
    with httpx.Client(base_url=url, timeout=20) as client:
        while not stop.is_set():
            for path in PATHS:
                seen[client.get(path).status_code] += 1


def _wait_for(client: httpx.Client, path: str, status: int, seconds: float = 20) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = client.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


@pytest.mark.slow
@pytest.mark.postgres
def test_requests_get_503_while_postgres_is_down_and_200_once_it_is_back(tmp_path: Path) -> None:
    from dailypapers.ingest.importer import import_file

    with private_cluster() as pg:
        admin = create_engine(pg.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "dp"'))
        admin.dispose()
        url = make_url(pg.url).set(database="dp").render_as_string(hide_password=False)
        services = build_services(tmp_path / "data", database_url=url)
        try:
            upgrade(services.db)
            for number, record in enumerate(HOSTILE_RECORDS):
                path = write_jsonl(tmp_path / f"r{number}.jsonl.gz", [record])
                import_file(services.db, path, parse_in_subprocess=False)
            with serve(services) as server, server.client() as client:
                for path in PATHS:
                    assert client.get(path).status_code == 200, path
                seen: Counter[int] = Counter()
                stop = threading.Event()
                worker = threading.Thread(target=_traffic, args=(server.url, stop, seen))
                worker.start()
                try:
                    time.sleep(0.3)
                    pg.stop("fast")  # mid-traffic: open connections are terminated
                    down = _wait_for(client, f"/api/papers/{XSS_ID}", 503)
                    assert down.status_code == 503, down.text
                    assert int(down.headers["retry-after"]) > 0
                    assert down.json()["error"]["code"] == "service_unavailable"
                    assert "127.0.0.1" not in down.text and "psycopg" not in down.text
                    page = client.get(f"/papers/{XSS_ID}")
                    assert page.status_code == 503 and "retry-after" in page.headers
                    assert page.headers["content-type"].startswith("text/html")
                    assert "try again" in page.text.lower()
                    assert client.get("/healthz").status_code == 503
                    signup = client.post("/digest/subscribe", data={"email": "a@example.org"})
                    assert signup.status_code == 503
                    time.sleep(0.5)
                    pg.start()
                    back = _wait_for(client, f"/api/papers/{XSS_ID}", 200)
                    assert back.status_code == 200, back.text
                    time.sleep(0.3)
                finally:
                    stop.set()
                    worker.join(timeout=30)
                for path in PATHS:
                    assert client.get(path).status_code == 200, path
                assert (
                    client.post("/digest/subscribe", data={"email": "a@example.org"}).status_code
                    == 200
                )
            assert seen[503] > 0, seen
            assert set(seen) <= {200, 503}, f"statuses other than 200 and 503: {seen}"
        finally:
            services.close()
