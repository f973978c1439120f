"""Security headers on every kind of response, through uvicorn on loopback: pages, JSON, feeds,
markdown, static files, the docs, redirects, conditional 304s and every error, 500 included."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from dailypapers.web.app import create_app
from dailypapers.web.middleware.security import CONTENT_SECURITY_POLICY
from tests.integration.web_server import HOSTILE_ID, LiveServer, serve


def _directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} twice in {policy}"
        parsed[name] = values
    return parsed


def test_the_policy_is_strict() -> None:
    policy = _directives(CONTENT_SECURITY_POLICY)
    # No inline or evaluated script anywhere: script-src, and default-src behind it.
    for directive in ("script-src", "default-src", "style-src"):
        assert policy[directive] == ["'self'"], directive
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert not any("unsafe" in value or value == "*" for v in policy.values() for value in v)


def _assert_secured(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get_list("content-security-policy") == [CONTENT_SECURITY_POLICY], where
    assert response.headers.get_list("x-content-type-options") == ["nosniff"], where
    referrer = response.headers.get_list("referrer-policy")
    assert referrer == ["strict-origin-when-cross-origin"], where


@pytest.fixture(scope="module")
def server_with_a_bug(live_server: LiveServer) -> Iterator[LiveServer]:
    """The same app plus one route that fails, to see what a 500 carries."""
    app = create_app(live_server.services)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/broken", broken)
    with serve(live_server.services, app) as server:
        yield server


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 200),
        ("GET", f"/papers/{HOSTILE_ID}", 200),
        ("GET", "/search?q=graph", 200),
        ("GET", "/docs", 200),
        ("GET", "/status", None),
        ("GET", "/api/daily_papers?limit=2", 200),
        ("GET", f"/api/papers/{HOSTILE_ID}", 200),
        ("GET", "/healthz", 200),
        ("GET", "/openapi.json", 200),
        ("GET", "/feeds/daily.rss", 200),
        ("GET", "/feeds/trending.atom", 200),
        ("GET", f"/papers/{HOSTILE_ID}.md", 200),
        ("GET", "/static/style.css", 200),
        ("GET", "/docs-assets/swagger-ui-bundle.js", 200),
        ("GET", "/signin", 200),
        ("GET", "/account", 303),
        ("GET", "/no/such/page", 404),
        ("GET", "/api/papers/2101.99999", 404),
        ("GET", "/api/daily_papers?limit=0", 400),
        ("GET", "/papers/date/2026-13-45", 400),
        ("GET", "/static/../../secret_key", 404),
        ("PUT", "/api/daily_papers", 405),
        ("POST", "/api/papers/submit", 401),
    ],
)
def test_every_kind_of_response_carries_the_headers(
    http: httpx.Client, method: str, path: str, status: int | None
) -> None:
    response = http.request(method, path)
    if status is not None:
        assert response.status_code == status, response.text[:300]
    _assert_secured(response)


def test_a_304_and_a_500_carry_them_too(http: httpx.Client, server_with_a_bug: LiveServer) -> None:
    first = http.get("/api/daily_papers", params={"limit": 2})
    again = http.get(
        "/api/daily_papers", params={"limit": 2}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    _assert_secured(again)
    # uvicorn closes the connection after a 500: one client each.
    with server_with_a_bug.client() as client:
        failed = client.get("/api/broken")
    with server_with_a_bug.client() as client:
        # From loopback, a trusted proxy: its request id is kept, on a 500 too.
        forwarded = client.get("/api/broken", headers={"X-Request-ID": "proxy-id-0123456789"})
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    assert "a bug" not in failed.text
    _assert_secured(failed)
    # The id a user quotes from a 500 finds its log record.
    assert re.fullmatch(r"[0-9a-f]{32}", failed.headers["x-request-id"])
    assert forwarded.status_code == 500
    assert forwarded.headers["x-request-id"] == "proxy-id-0123456789"
