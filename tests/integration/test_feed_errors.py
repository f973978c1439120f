"""A feed's errors are plain text a feed reader can show, never the site's HTML page, and a 429
says when to come back; through uvicorn on loopback (#16)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.requests import Request

from dailypapers.store.migrate import upgrade
from dailypapers.web.errors import FEED_RETRY_AFTER_SECONDS, error_response
from tests.integration.web_server import LiveServer, build_services, serve

TEXT = "text/plain; charset=utf-8"
# Feeds share the API's bucket; this many a minute per address, then 429.
FEEDS_PER_MINUTE = 3


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("feed-errors")
    services = build_services(tmp / "data", api_rate_limit_per_minute=FEEDS_PER_MINUTE)
    upgrade(services.db)
    with serve(services) as server:
        yield server
    services.close()


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("feed-errors-unlimited")
    services = build_services(tmp / "data")
    upgrade(services.db)
    with serve(services) as server:
        yield server
    services.close()


def _assert_plain_text(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TEXT
    assert "<html" not in response.text.lower()
    assert response.headers["cache-control"] == "no-store"


def test_a_feed_over_the_rate_limit_answers_429_in_plain_text_with_retry_after(
    site: LiveServer,
) -> None:
    with site.client() as client:
        answers = [client.get("/feeds/daily.atom") for _ in range(FEEDS_PER_MINUTE + 2)]
    assert answers[0].status_code == 200
    refused = answers[-1]
    _assert_plain_text(refused, 429)
    assert refused.text.startswith("Too many requests from your address.")
    assert refused.text.endswith("\n")
    assert int(refused.headers["retry-after"]) >= 1


def test_a_search_feed_without_words_or_filters_is_a_plain_text_400(
    unlimited: LiveServer,
) -> None:
    with unlimited.client() as client:
        for kind in ("rss", "atom"):
            answer = client.get(f"/feeds/search.{kind}")
            _assert_plain_text(answer, 400)
            assert answer.text == "a search feed needs words (q) or a filter (from, to, cat)\n"


def test_a_feed_of_an_unknown_kind_or_path_is_plain_text_too(unlimited: LiveServer) -> None:
    with unlimited.client() as client:
        _assert_plain_text(client.get("/feeds/daily.json"), 400)
        _assert_plain_text(client.get("/feeds/search.atom", params={"q": "x" * 5_000}), 400)
        _assert_plain_text(client.get("/feeds/nothing-here.atom"), 404)
        # A browser opening a broken feed URL gets the same text: the URL is the feed's.
        _assert_plain_text(client.get("/feeds/search.rss", headers={"Accept": "text/html"}), 400)


def test_the_pages_keep_their_html_error_page(unlimited: LiveServer) -> None:
    with unlimited.client() as client:
        answer = client.get("/papers/date/2026-13-45")
    assert answer.status_code in (400, 404)
    assert answer.headers["content-type"].startswith("text/html")


def test_a_feeds_503_says_when_to_come_back_even_when_its_error_does_not() -> None:
    """A 503 from an upstream names no time (the store's does, and _domain_error copies it)."""
    scope = {"type": "http", "method": "GET", "path": "/feeds/daily.atom", "headers": []}
    response = error_response(Request(scope), 503, "arXiv is unreachable for now")
    assert response.status_code == 503
    assert response.headers["content-type"] == TEXT
    assert response.headers["retry-after"] == str(FEED_RETRY_AFTER_SECONDS)
    assert bytes(response.body) == b"arXiv is unreachable for now\n"
