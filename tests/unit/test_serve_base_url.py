"""`serve` warns when a local base_url names another port or host than the one it serves (#16)."""

from __future__ import annotations

import pytest

from dailypapers.cli.serve_command import base_url_warning


@pytest.mark.parametrize(
    ("base_url", "host", "port"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1", 8000),
        ("http://localhost:8000", "127.0.0.1", 8000),
        ("http://127.0.0.1:8000", "0.0.0.0", 8000),
        ("http://[::1]:8000", "::1", 8000),
        ("http://localhost", "127.0.0.1", 80),
        # A public host fronts a reverse proxy: its port is the proxy's, not the app's.
        ("https://papers.example.org", "127.0.0.1", 8000),
        ("http://papers.example.org:8080", "0.0.0.0", 8000),
        ("http://192.0.2.10:8000", "127.0.0.1", 8001),
        # https names a TLS-terminating proxy in front: serve itself speaks plain HTTP.
        ("https://localhost", "127.0.0.1", 8000),
        ("https://127.0.0.1:8443", "127.0.0.1", 8000),
    ],
)
def test_no_warning_when_the_links_reach_the_server_or_a_proxy_fronts_it(
    base_url: str, host: str, port: int
) -> None:
    assert base_url_warning(base_url, host, port) is None


def test_a_local_base_url_on_another_port_warns_and_says_how_to_fix_it() -> None:
    warning = base_url_warning("http://127.0.0.1:8000", "127.0.0.1", 8001)
    assert warning is not None
    assert warning.startswith("base_url is http://127.0.0.1:8000")
    assert "this server answers on http://127.0.0.1:8001" in warning
    assert "feeds and emails" in warning
    assert "DAILYPAPERS_BASE_URL=http://127.0.0.1:8001" in warning
    assert "--port 8000" in warning


@pytest.mark.parametrize(
    ("base_url", "host", "port", "served"),
    [
        ("http://localhost", "127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("http://0.0.0.0:8000", "::1", 9000, "http://[::1]:9000"),
        # Listening on one LAN address only: links to 127.0.0.1 reach nothing.
        ("http://127.0.0.1:8000", "192.0.2.10", 8000, "http://192.0.2.10:8000"),
    ],
)
def test_a_local_base_url_that_misses_the_served_address_warns(
    base_url: str, host: str, port: int, served: str
) -> None:
    warning = base_url_warning(base_url, host, port)
    assert warning is not None
    assert f"DAILYPAPERS_BASE_URL={served}" in warning
