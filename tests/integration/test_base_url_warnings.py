"""Links in feeds and emails name base_url: `dailypapers serve` warns when a local base_url misses
the port it serves, and /status says when it was reached at another address (#16)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.store.migrate import upgrade
from tests.integration.web_server import LiveServer, build_services, serve

DAILYPAPERS = [sys.executable, "-m", "dailypapers"]
WARNING = 'class="notice base-url-warning"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh data folder (SQLite, key file) set up by `dailypapers init`; base_url unset."""
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(tmp_path / "data"))
    for name in ("DAILYPAPERS_BASE_URL", "DAILYPAPERS_DATABASE_URL", "DAILYPAPERS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {**os.environ, "PYTHONUNBUFFERED": "1"}


def _serve_output(env: dict[str, str], port: int) -> str:
    """What `dailypapers serve --port PORT` prints up to its "serving on" line; it is stopped
    once the server answers."""
    server = subprocess.Popen(
        [*DAILYPAPERS, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if line.startswith("serving on"):
                break
        deadline = time.monotonic() + 30
        while True:  # the server really starts, warning or not
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert server.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "server did not start in 30 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return "".join(lines)


def test_serve_warns_when_the_default_base_url_names_another_port(env: dict[str, str]) -> None:
    port = _free_port()
    assert port != 8000
    output = _serve_output(env, port)
    assert re.search(r"WARNING.*base_url is http://127\.0\.0\.1:8000", output), output
    assert f"this server answers on http://127.0.0.1:{port}" in output
    assert "feeds and emails" in output
    assert f"DAILYPAPERS_BASE_URL=http://127.0.0.1:{port}" in output


def test_serve_is_quiet_when_base_url_names_the_address_served(env: dict[str, str]) -> None:
    port = _free_port()
    output = _serve_output({**env, "DAILYPAPERS_BASE_URL": f"http://localhost:{port}"}, port)
    assert "base_url is" not in output
    assert f"serving on http://127.0.0.1:{port}" in output


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server whose base_url names a port it does not listen on (as `make demo PORT=8001` did
    before the Makefile passed base_url), trusting no proxy."""
    tmp = tmp_path_factory.mktemp("base-url-port")
    services = build_services(tmp / "data", base_url="http://127.0.0.1:1", trusted_proxies=[])
    upgrade(services.db)
    with serve(services) as server:
        yield server
    services.close()


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server behind a proxy on loopback (trusted) with a public https base_url."""
    tmp = tmp_path_factory.mktemp("base-url-proxy")
    services = build_services(
        tmp / "data", base_url="https://papers.example.org", trusted_proxies=["127.0.0.1"]
    )
    upgrade(services.db)
    with serve(services) as server:
        yield server
    services.close()


def test_the_status_page_warns_when_reached_on_another_port_than_base_url(
    elsewhere: LiveServer,
) -> None:
    reached = elsewhere.url.removeprefix("http://")
    with elsewhere.client() as client:
        page = client.get("/status")
        assert WARNING in page.text
        assert f"This page was reached at <code>{reached}</code>" in page.text
        assert "<code>http://127.0.0.1:1</code>" in page.text
        assert "DAILYPAPERS_BASE_URL" in page.text
        # Asked for by base_url's own host:port (a port forward, say): nothing to warn about.
        matching = client.get("/status", headers={"Host": "127.0.0.1:1"})
        assert WARNING not in matching.text
        # A client that is no trusted proxy cannot claim the host it reached.
        claimed = client.get("/status", headers={"X-Forwarded-Host": "127.0.0.1:1"})
        assert WARNING in claimed.text
        # A Host header that is no host:port is no reason for a warning, nor for a 500.
        odd = client.get("/status", headers={"Host": "127.0.0.1:port"})
        assert odd.status_code in (200, 503) and WARNING not in odd.text


def test_the_status_page_believes_x_forwarded_host_from_a_trusted_proxy_only(
    proxied: LiveServer,
) -> None:
    with proxied.client() as client:
        direct = client.get("/status")
        assert WARNING in direct.text
        through_proxy = client.get(
            "/status",
            headers={"X-Forwarded-Host": "papers.example.org", "X-Forwarded-Proto": "https"},
        )
        assert WARNING not in through_proxy.text
        # https on its default port is the same address as base_url's.
        explicit_port = client.get(
            "/status",
            headers={"X-Forwarded-Host": "papers.example.org:443", "X-Forwarded-Proto": "https"},
        )
        assert WARNING not in explicit_port.text
        other_host = client.get(
            "/status",
            headers={"X-Forwarded-Host": "mirror.example.net", "X-Forwarded-Proto": "https"},
        )
        assert WARNING in other_host.text and "mirror.example.net" in other_host.text
