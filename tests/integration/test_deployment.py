"""The documented deployment, for real: `dailypapers serve --workers 2` over a SQLite store, with
Debian's nginx in front running deploy/nginx.conf (only ports and paths changed) and terminating
TLS with a throwaway certificate.

The test client talks from 127.0.0.2, so the address the app records is told apart from nginx's
own (127.0.0.1): a client address the app sees can only have come through X-Forwarded-For.
"""

from __future__ import annotations

import gzip
import json
import mailbox
import os
import re
import signal
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from dailypapers.search.catchup import catch_up
from tests.conftest import require
from tests.integration.deployment import (
    STATIC_DIR,
    Nginx,
    Served,
    nginx_available,
    run_nginx,
    run_serve,
    wait_until,
)
from tests.integration.web_server import TEST_SECRET, build_services, populate

pytestmark = pytest.mark.slow

CLIENT_IP = "127.0.0.2"
SPOOFED_IP = "6.6.6.6"
WORKERS = 2


@dataclass
class Deployment:
    app: Served
    nginx: Nginx
    data_dir: Path
    tls: ssl.SSLContext

    def via_proxy(self, **kwargs: Any) -> httpx.Client:
        """A browser on 127.0.0.2 talking HTTPS to nginx."""
        transport = httpx.HTTPTransport(local_address=CLIENT_IP, verify=self.tls, retries=0)
        return httpx.Client(
            base_url=self.nginx.https_url, transport=transport, timeout=30, **kwargs
        )

    def direct(self, local_address: str = CLIENT_IP, **kwargs: Any) -> httpx.Client:
        """A client reaching the app's port itself, bypassing nginx."""
        transport = httpx.HTTPTransport(local_address=local_address, retries=0, **kwargs)
        return httpx.Client(base_url=self.app.url, transport=transport, timeout=30)

    def log_records(self) -> list[dict[str, Any]]:
        lines = self.app.log.read_text().splitlines()
        # The last line may be half-written while a worker is logging.
        return [json.loads(line) for line in lines[:-1] if line.strip()] + [
            json.loads(line) for line in lines[-1:] if line.strip() and _complete(line)
        ]

    def records_of(self, request_id: str) -> list[dict[str, Any]]:
        return [r for r in self.log_records() if r.get("request_id") == request_id]

    def access_record(self, request_id: str) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def logged() -> bool:
            found[:] = [
                r for r in self.records_of(request_id) if r["logger"] == "dailypapers.access"
            ]
            return bool(found)

        wait_until(logged, f"the access record of {request_id}", timeout=10)
        return found[0]


def _complete(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require(nginx_available(), "Debian's nginx (/usr/sbin/nginx) and openssl are not installed")
    tmp = tmp_path_factory.mktemp("deploy")
    data_dir = tmp / "data"
    services = build_services(data_dir)
    try:
        populate(services, tmp)
        catch_up(services.db, services.search_index)
    finally:
        services.close()
    env = {
        "DAILYPAPERS_SECRET_KEY": TEST_SECRET,
        "DAILYPAPERS_ENVIRONMENT": "development",
        "DAILYPAPERS_BASE_URL": "https://localhost",
        "DAILYPAPERS_LOG_FORMAT": "json",
        "DAILYPAPERS_LOG_LEVEL": "INFO",
        "DAILYPAPERS_ACCESS_LOG": "true",
    }
    with (
        run_serve(
            data_dir, tmp / "serve.log", workers=WORKERS, metrics_dir=tmp / "metrics", env=env
        ) as app,
        run_nginx(tmp / "nginx", app.port) as nginx,
    ):
        tls = ssl.create_default_context(cafile=str(nginx.cert))
        yield Deployment(app=app, nginx=nginx, data_dir=data_dir, tls=tls)


def test_the_app_sees_the_client_and_https_through_nginx(deployment: Deployment) -> None:
    with deployment.via_proxy() as browser:
        # What a client claims itself is not passed on: nginx replaces both headers.
        response = browser.get(
            "/", headers={"X-Forwarded-For": SPOOFED_IP, "X-Request-ID": "made-up-by-client-1"}
        )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), "nginx's $request_id reaches the app"
    record = deployment.access_record(request_id)
    assert record["client"] == CLIENT_IP
    assert record["scheme"] == "https"
    assert record["route"] == "/"
    assert record["status"] == 200
    # nginx logs the request after answering it.
    wait_until(
        lambda: any(
            line.startswith(CLIENT_IP) and f"rid={request_id}" in line
            for line in deployment.nginx.access_log.read_text().splitlines()
        ),
        "nginx's access line with the same request id",
        timeout=10,
    )
    assert "strict-transport-security" in response.headers


def test_a_client_reaching_the_app_directly_cannot_claim_an_address(
    deployment: Deployment,
) -> None:
    with deployment.direct() as client:
        response = client.get(
            "/",
            headers={
                "X-Forwarded-For": SPOOFED_IP,
                "X-Forwarded-Proto": "https",
                "X-Request-ID": "made-up-by-client-2",
            },
        )
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert request_id != "made-up-by-client-2"
    record = deployment.access_record(request_id)
    assert record["client"] == CLIENT_IP
    assert record["scheme"] == "http"
    assert (
        "set-cookie" not in response.headers
        or "secure" not in response.headers["set-cookie"].lower()
    )


def test_sign_in_behind_tls_termination(deployment: Deployment) -> None:
    email = "reader@example.org"
    with deployment.via_proxy() as browser:
        form = browser.get("/signin")
        assert form.status_code == 200
        anon = form.headers["set-cookie"]
        assert "; secure" in anon.lower(), anon
        csrf = _csrf(form.text)
        sent = browser.post("/signin", data={"email": email, "csrf": csrf, "next": "/"})
        assert sent.status_code == 200, sent.text
        signin_id = sent.headers["x-request-id"]

        link = _mailed_link(deployment.data_dir / "outbox", email)
        assert link.startswith("https://localhost/signin/confirm?token=")
        token = link.split("token=", 1)[1]
        confirm = browser.get(link.removeprefix("https://localhost"))
        assert confirm.status_code == 200
        confirm_id = confirm.headers["x-request-id"]
        done = browser.post(
            "/signin/confirm", data={"token": token_value(token), "csrf": _csrf(confirm.text)}
        )
        assert done.status_code == 303
        session = done.headers["set-cookie"]
        assert "; secure" in session.lower() and "; httponly" in session.lower(), session

    # The store recorded the forwarded address, the one the limits count.
    engine = create_engine(f"sqlite:///{deployment.data_dir / 'dailypapers.sqlite3'}")
    with engine.connect() as conn:
        buckets = [row[0] for row in conn.execute(text("SELECT bucket FROM rate_counters"))]
    engine.dispose()
    assert f"signin-ip:{CLIENT_IP}" in buckets
    assert not any(SPOOFED_IP in b or "127.0.0.1" in b for b in buckets), buckets

    # Every record of the sign-in request carries its id, the mail written in the worker
    # thread included; the token never reaches a log.
    deployment.access_record(signin_id)
    loggers = {r["logger"] for r in deployment.records_of(signin_id)}
    assert "dailypapers.access" in loggers
    assert any(name.startswith("dailypapers.mail") for name in loggers), loggers
    confirm_record = deployment.access_record(confirm_id)
    assert confirm_record["path"] == "/signin/confirm?token=[redacted]"
    assert token_value(token) not in deployment.app.log.read_text()
    assert token_value(token) not in deployment.nginx.access_log.read_text()


def token_value(quoted: str) -> str:
    from urllib.parse import unquote

    return unquote(quoted)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no csrf field in the form"
    return match.group(1)


def _mailed_link(outbox: Path, to: str) -> str:
    found: list[str] = []

    def delivered() -> bool:
        for message in mailbox.Maildir(outbox, create=False):
            if message["To"] and to in message["To"]:
                body = _text_of(message)
                match = re.search(r"https://\S+/signin/confirm\?token=\S+", body)
                if match:
                    found.append(match.group(0))
        return bool(found)

    wait_until(delivered, f"a sign-in mail to {to}", timeout=10)
    return found[-1]


def _text_of(message: mailbox.MaildirMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text part")


def test_plain_http_redirects_to_https(deployment: Deployment) -> None:
    response = httpx.get(f"{deployment.nginx.http_url}/papers/trending?x=1", timeout=10)
    assert response.status_code == 301
    assert response.headers["location"].startswith("https://")
    assert response.headers["location"].endswith("/papers/trending?x=1")


def test_nginx_serves_static_files_compressed_and_cacheable(deployment: Deployment) -> None:
    original = (STATIC_DIR / "style.css").read_bytes()
    assert len(original) > 1000
    with deployment.via_proxy() as browser:
        response = browser.get("/static/style.css", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "gzip"
        assert response.content == original  # httpx decodes the gzip
        assert response.headers["cache-control"] == "public, max-age=3600"
        assert response.headers["content-type"].startswith("text/css")
        assert "x-request-id" not in response.headers, "the app answered, not nginx"
        again = browser.get(
            "/static/style.css", headers={"If-None-Match": response.headers["etag"]}
        )
        assert again.status_code == 304
        missing = browser.get("/static/nope.css")
        assert missing.status_code == 404
        assert "x-request-id" not in missing.headers


def test_pages_are_gzipped_through_the_proxy(deployment: Deployment) -> None:
    with deployment.via_proxy() as browser:
        response = browser.get("/papers/date/2026-08-21", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert "</html>" in response.text


def test_nginx_refuses_large_bodies(deployment: Deployment) -> None:
    with deployment.via_proxy() as browser:
        response = browser.post(
            "/signin", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "text/plain"}
        )
    assert response.status_code == 413


def test_metrics_are_not_public(deployment: Deployment) -> None:
    with deployment.via_proxy() as browser:
        assert browser.get("/metrics").status_code == 404
    with deployment.direct(CLIENT_IP) as outsider:
        assert outsider.get("/metrics").status_code == 404
    with deployment.direct("127.0.0.1") as prometheus:
        response = prometheus.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "# TYPE dailypapers_http_requests_total counter" in response.text


def scrape(deployment: Deployment) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by (name, sorted labels)."""
    with deployment.direct("127.0.0.1") as prometheus:
        response = prometheus.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def requests_total(samples: dict[Any, float], route: str) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "dailypapers_http_requests_total" and ("route", route) in labels
    )


def worker_pids(folder: Path, kind: str) -> set[int]:
    return {
        int(m.group(1))
        for f in folder.iterdir()
        if (m := re.fullmatch(rf"{kind}_(\d+)\.db", f.name))
    }


def test_metrics_add_up_across_workers(deployment: Deployment) -> None:
    before = scrape(deployment)
    folder = deployment.app.metrics_dir
    sent = 0

    def one(_: int) -> int:
        # A fresh connection each time, so the kernel hands them to either worker.
        with deployment.direct("127.0.0.1") as client:
            return client.get("/api/daily_papers", params={"date": "2026-08-21"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        while sent < 400 and len(worker_pids(folder, "counter")) < WORKERS:
            statuses = list(pool.map(one, range(16)))
            assert statuses == [200] * 16
            sent += 16
    served_by = worker_pids(folder, "counter")
    assert len(served_by) >= WORKERS, f"all {sent} requests went to one worker"
    with deployment.direct("127.0.0.1") as client:
        for q in ("attention", "diffusion models", "reinforcement learning"):
            assert client.get("/api/papers/search", params={"q": q}).status_code == 200

    route = "/api/daily_papers"
    hist = (
        "dailypapers_http_request_duration_seconds_count",
        (("method", "GET"), ("route", route)),
    )
    search_count = "dailypapers_search_duration_seconds_count"

    def counted(samples: dict[Any, float]) -> tuple[float, float, float]:
        return (
            requests_total(samples, route) - requests_total(before, route),
            samples.get(hist, 0) - before.get(hist, 0),
            sum(v for (n, _), v in samples.items() if n == search_count)
            - sum(v for (n, _), v in before.items() if n == search_count),
        )

    # A request is counted as its response ends, so the last ones may land a moment after the
    # client has its answer; then the sums over both workers must be exact.
    deadline = time.monotonic() + 10
    after = scrape(deployment)
    while counted(after) != (sent, sent, 3) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = scrape(deployment)
    assert counted(after) == (sent, sent, 3)
    # Only the scrape itself is in flight, whichever worker answers it.
    assert after[("dailypapers_http_requests_in_progress", ())] == 1
    # Read from the store: the fixture caught the index up; nothing was mailed.
    assert after[("dailypapers_index_lag_changes", ())] == 0
    assert after[("dailypapers_index_documents", ())] > 2000
    assert after[("dailypapers_digest_deliveries", (("status", "sent"),))] == 0
    assert after[("dailypapers_harvest_last_success_timestamp_seconds", ())] == 0

    # A worker dies: uvicorn starts another, its counts stay in the sum, and its live gauge
    # stops counting at the next scrape.
    victim = min(served_by)
    live_before = worker_pids(folder, "gauge_livesum")
    os.kill(victim, signal.SIGKILL)
    wait_until(
        lambda: worker_pids(folder, "gauge_livesum") - live_before,
        "a replacement worker",
        timeout=60,
    )
    wait_until(lambda: _answers(deployment), "the app answering after the restart", timeout=30)
    final = scrape(deployment)
    assert requests_total(final, route) == requests_total(after, route)
    assert victim not in worker_pids(folder, "gauge_livesum")
    assert final[("dailypapers_http_requests_in_progress", ())] == 1


def _answers(deployment: Deployment) -> bool:
    try:
        with deployment.direct("127.0.0.1") as client:
            return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def test_every_log_line_is_json(deployment: Deployment) -> None:
    with deployment.via_proxy() as browser:
        assert browser.get("/papers/date/2026-08-21").status_code == 200
    time.sleep(0.2)
    lines = [line for line in deployment.app.log.read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= record.keys(), record


def test_gzip_module_output_is_real_gzip(deployment: Deployment) -> None:
    with (
        deployment.via_proxy() as browser,
        browser.stream("GET", "/static/style.css", headers={"Accept-Encoding": "gzip"}) as response,
    ):
        raw = b"".join(response.iter_raw())
    assert gzip.decompress(raw) == (STATIC_DIR / "style.css").read_bytes()
