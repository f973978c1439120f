"""/metrics on both backends: per-route counts under route templates (bounded labels), who may
read it, and the gauges read from the store at scrape time. The multi-worker sums are tested
against a real `serve --workers 2` in test_deployment.py.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from dailypapers.domain import ImportCounts, PaperRecord
from dailypapers.search.catchup import catch_up
from dailypapers.store import Database
from dailypapers.store.harvests import fail_cursor, finish_cursor, start_cursor
from dailypapers.store.ingest_runs import finish_run, start_run
from dailypapers.store.papers import upsert_papers
from dailypapers.web.app import create_app
from dailypapers.web.middleware import metrics
from tests.integration.web_server import LiveServer, build_services

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def routes(samples: Samples) -> dict[str, float]:
    out: dict[str, float] = {}
    for (name, labels), value in samples.items():
        if name == "dailypapers_http_requests_total":
            route = dict(labels)["route"]
            out[route] = out.get(route, 0) + value
    return out


def test_requests_count_under_their_route_template(http: httpx.Client) -> None:
    before = routes(parse(http.get("/metrics").text))
    for arxiv_id in ("2608.00001", "2608.00002", "2101.99999"):
        http.get(f"/api/papers/{arxiv_id}")
    for junk in ("/wp-login.php", "/.env", "/no/such/page"):
        assert http.get(junk).status_code == 404
    # Counted as the response ends: a moment after the client has it.
    deadline = time.monotonic() + 5
    while True:
        after = routes(parse(http.get("/metrics").text))
        grown = {r: after[r] - before.get(r, 0) for r in after if after[r] != before.get(r, 0)}
        grown.pop("/metrics", None)
        if grown == {"/api/papers/{arxiv_id:path}": 3, metrics.UNMATCHED: 3}:
            break
        assert time.monotonic() < deadline, grown
        time.sleep(0.05)
    assert not any("2608.00001" in route or "wp-login" in route for route in after)


def test_metrics_answer_only_allowed_clients(live_server: LiveServer) -> None:
    # The live server's client is 127.0.0.1 (allowed by default); the TestClient is not an IP.
    assert httpx.get(f"{live_server.url}/metrics", timeout=10).status_code == 200
    app = create_app(live_server.services)
    assert TestClient(app).get("/metrics").status_code == 404
    closed = create_app(live_server.services, metrics_allow=[])
    with TestClient(closed) as client:
        assert client.get("/metrics").status_code == 404


def gauges(db: Database, data_dir: Path) -> Samples:
    services = build_services(data_dir, database_url=db.engine.url.render_as_string(False))
    try:
        app = create_app(services, metrics_allow=["*"])
        response = TestClient(app).get("/metrics")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        return parse(response.text)
    finally:
        services.close()


def test_store_gauges_follow_the_store(db: Database, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    empty = gauges(db, data_dir)
    assert empty[("dailypapers_harvest_last_success_timestamp_seconds", ())] == 0
    assert empty[("dailypapers_harvest_lag_seconds", ())] > 0
    assert empty[("dailypapers_index_generation", ())] == -1
    assert empty[("dailypapers_digest_deliveries", (("status", "sent"),))] == 0
    assert empty[("dailypapers_digest_deliveries", (("status", "failed"),))] == 0

    finished = datetime.now(UTC).replace(microsecond=0)
    start_cursor(db, "cs", "arXiv", from_date=None, until_date=None, now=finished)
    finish_cursor(db, "cs", "arXiv", last_datestamp=date(2026, 9, 24), now=finished)
    start_cursor(db, "math", "arXiv", from_date=None, until_date=None, now=finished)
    fail_cursor(db, "math", "arXiv", error="arXiv answered 503", now=finished)
    run_id = start_run(db, "oai-pmh arXiv set=cs *..*", now=finished - timedelta(minutes=3))
    finish_run(db, run_id, ImportCounts(lines=1, papers_seen=1), status="ok", now=finished)
    with db.write() as conn:
        upsert_papers(conn, [PaperRecord("2609.00001", "A", "An abstract", ("X",))], now=finished)
    services = build_services(data_dir, database_url=db.engine.url.render_as_string(False))
    try:
        catch_up(services.db, services.search_index)
        with db.write() as conn:
            upsert_papers(
                conn, [PaperRecord("2609.00002", "B", "Another abstract", ("Y",))], now=finished
            )
    finally:
        services.close()

    # The store gauges are cached for a few seconds per app; a new app reads afresh.
    now = gauges(db, data_dir)
    stamp = now[("dailypapers_harvest_last_success_timestamp_seconds", ())]
    assert abs(stamp - finished.timestamp()) < 1
    newest = now[("dailypapers_harvest_newest_datestamp_seconds", (("set", "cs"),))]
    assert newest == datetime(2026, 9, 24, tzinfo=UTC).timestamp()
    assert now[("dailypapers_harvest_failed", (("set", "cs"),))] == 0
    assert now[("dailypapers_harvest_failed", (("set", "math"),))] == 1
    assert now[("dailypapers_index_generation", ())] >= 1
    assert now[("dailypapers_index_documents", ())] == 1
    assert now[("dailypapers_index_lag_changes", ())] >= 1, "the second paper is not indexed"
