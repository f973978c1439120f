"""Per-address limits on the API, feeds and search, through uvicorn on loopback.

The server trusts loopback as its reverse proxy (the default trusted_proxies), so each test
plays several clients by sending X-Forwarded-For, as nginx would; a second app that trusts only
another network shows a direct client cannot pick its address that way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.community.accounts import request_sign_in
from dailypapers.community.rate_limits import UNLIMITED
from dailypapers.config import Settings
from dailypapers.services import Services
from dailypapers.store.schema import rate_counters
from dailypapers.web.api_models import ErrorBody
from dailypapers.web.app import create_app
from dailypapers.web.deps import utc_now
from tests.integration.web_server import (
    HOSTILE_ID,
    TEST_SECRET,
    LiveServer,
    build_services,
    populate,
    serve,
)

API_PER_MINUTE = 5
SEARCH_POINTS = 8
SEMANTIC_COST = 4
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


def new_client() -> dict[str, str]:
    """Headers that make a request come from a client address no other test used."""
    return {"X-Forwarded-For": next(_addresses)}


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp: Path = tmp_path_factory.mktemp("limits")
    services = build_services(
        tmp / "data",
        api_rate_limit_per_minute=API_PER_MINUTE,
        search_rate_limit_per_minute=SEARCH_POINTS,
        search_semantic_cost=SEMANTIC_COST,
    )
    populate(services, tmp)
    with serve(services) as server:
        yield server
    services.close()


@pytest.fixture
def http(limited: LiveServer) -> Iterator[httpx.Client]:
    with limited.client() as client:
        yield client


def _assert_refused(response: httpx.Response, *, json: bool, feed: bool = False) -> None:
    assert response.status_code == 429, response.text[:300]
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60 // API_PER_MINUTE * SEMANTIC_COST
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    if json:
        assert response.headers["content-type"].startswith("application/json")
        error = ErrorBody.model_validate(response.json()).error
        assert error.code == "too_many_requests"
        assert "try again in" in error.message
    elif feed:  # a feed reader shows neither a page nor JSON (#16)
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        assert response.text.startswith("Too many requests from your address")
    else:
        assert response.headers["content-type"].startswith("text/html")
        assert "Too many requests from your address" in response.text
        assert "<!doctype html>" in response.text.lower()


def test_past_its_limit_one_client_gets_429_with_retry_after_and_others_carry_on(
    http: httpx.Client,
) -> None:
    flooder, bystander = new_client(), new_client()
    for _ in range(API_PER_MINUTE):
        assert http.get("/api/daily_papers", params={"limit": 1}, headers=flooder).is_success
    _assert_refused(http.get(f"/api/papers/{HOSTILE_ID}", headers=flooder), json=True)
    # The feeds share the API's bucket; their refusal is plain text.
    _assert_refused(http.get("/feeds/daily.rss", headers=flooder), json=False, feed=True)
    # Everyone else is served as before, and so are the flooder's ordinary pages and health.
    assert http.get(f"/api/papers/{HOSTILE_ID}", headers=bystander).status_code == 200
    assert http.get("/", headers=flooder).status_code == 200
    assert http.get(f"/papers/{HOSTILE_ID}", headers=flooder).status_code == 200
    assert http.get("/healthz", headers=flooder).status_code == 200


def test_semantic_searches_cost_more_than_keyword_ones(http: httpx.Client) -> None:
    semantic, keyword = new_client(), new_client()
    for _ in range(SEARCH_POINTS // SEMANTIC_COST):
        assert http.get("/api/papers/search", params={"q": "graph"}, headers=semantic).is_success
    refused = http.get("/api/papers/search", params={"q": "graph"}, headers=semantic)
    _assert_refused(refused, json=True)
    # Search has its own bucket: the rest of the API still answers this client.
    assert http.get("/api/daily_papers", params={"limit": 1}, headers=semantic).is_success
    for _ in range(SEARCH_POINTS):
        page = http.get("/search", params={"q": "graph", "mode": "keyword"}, headers=keyword)
        assert page.status_code == 200
    _assert_refused(http.get("/search", params={"q": "graph"}, headers=keyword), json=False)
    refused = http.get("/feeds/search.atom", params={"q": "x"}, headers=keyword)
    _assert_refused(refused, json=False, feed=True)


def test_a_client_that_is_not_a_trusted_proxy_cannot_pick_its_address(
    limited: LiveServer,
) -> None:
    # Trusting a proxy network the test client is not in: X-Forwarded-For is ignored.
    app = create_app(limited.services, trusted_proxies=["10.0.0.0/8"])
    with serve(limited.services, app) as direct, direct.client() as client:
        for n in range(API_PER_MINUTE):
            spoof = {"X-Forwarded-For": f"203.0.113.{n}"}
            assert client.get("/api/daily_papers", params={"limit": 1}, headers=spoof).is_success
        refused = client.get(
            "/api/daily_papers", params={"limit": 1}, headers={"X-Forwarded-For": "203.0.113.99"}
        )
        _assert_refused(refused, json=True)
    # Through the trusted proxy (loopback on the other server), the same header is believed.
    with limited.client() as client:
        for n in range(API_PER_MINUTE + 2):
            spoof = {"X-Forwarded-For": f"192.0.2.{n}"}
            assert client.get("/api/daily_papers", params={"limit": 1}, headers=spoof).is_success


def test_rate_limits_off_turns_every_limit_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_RATE_LIMITS", "off")
    assert Settings().rate_limits is False
    services: Services = build_services(
        tmp_path / "data",
        rate_limits=False,
        api_rate_limit_per_minute=1,
        search_rate_limit_per_minute=1,
        signin_rate_limit_per_hour=1,
        signin_rate_limit_per_hour_per_ip=1,
    )
    try:
        assert services.web.request_limits is None
        assert services.community.signin_per_hour_per_address == UNLIMITED
        assert services.community.comments_per_hour == UNLIMITED
        assert services.community.submissions_per_day == UNLIMITED
        assert services.digest.subscribe_per_hour_per_ip == UNLIMITED
        assert services.digest.subscribe_per_hour_per_address == UNLIMITED
        populate(services, tmp_path)
        assert services.mailer is not None
        for _ in range(4):  # over both sign-in limits of 1
            request_sign_in(
                services.db,
                services.mailer,
                services.community,
                TEST_SECRET,
                email="bench@example.org",
                ip="192.0.2.1",
                next_path=None,
                now=utc_now(),
            )
        with services.db.read() as conn:
            assert conn.execute(select(func.count()).select_from(rate_counters)).scalar_one() == 0
        with serve(services) as server, server.client() as client:
            for _ in range(5):
                assert client.get("/api/daily_papers", params={"limit": 1}).status_code == 200
                assert client.get("/api/papers/search", params={"q": "graph"}).status_code == 200
    finally:
        services.close()
