"""The search page, API and feed on the real engine, served by uvicorn on loopback (#4)."""

from __future__ import annotations

import gzip
import json
import re
import socket
from urllib.parse import urlsplit

import feedparser
import httpx

from tests.integration.web_server import SAMPLE_ARXIV, LiveServer

with gzip.open(SAMPLE_ARXIV, "rt") as _handle:
    ARXIV = [json.loads(line) for line in _handle]


def test_an_exact_title_is_the_first_hit_with_highlights_count_and_time(http: httpx.Client) -> None:
    record = ARXIV[17]
    html = http.get("/search", params={"q": record["title"]}).text
    first = re.search(r'<h2 id="t-[^"]+"><a href="([^"]+)">(.*?)</a>', html)
    assert first is not None
    assert first[1] == f"/papers/{record['arxiv_id']}"
    assert "<mark>" in first[2]
    assert re.search(r"[\d,]+ papers? <span class=\"muted\">for</span> <q>.*</q></h1>", html)
    assert re.search(r"(Keyword|Hybrid|Semantic) search · \d+ ms", html)


def test_the_search_box_holds_the_words_typed_and_searches_them_again(
    http: httpx.Client,
) -> None:
    words = 'diffusion "image editing" ti:model -survey'
    html = http.get("/search", params={"q": words}).text
    # One search box on the search page: its own, not the header's as well.
    assert len(re.findall(r'<input [^>]*type="search"', html)) == 1
    assert 'id="site-search"' not in html
    box = re.search(r'<input id="q"[^>]* value="([^"]*)"', html)
    assert box is not None
    typed = box[1].replace("&#34;", '"').replace("&quot;", '"')
    assert typed == words, box[1]
    assert "Query(" not in html
    again = http.get("/search", params={"q": typed}).text
    assert re.findall(r'<h2 id="t-[^"]+"><a href="/papers/([^"]+)">', again) == re.findall(
        r'<h2 id="t-[^"]+"><a href="/papers/([^"]+)">', html
    )
    home = http.get("/").text
    assert re.search(r'<input id="site-search"[^>]* value=""', home)


def test_filters_live_in_the_url_and_narrow_before_ranking(http: httpx.Client) -> None:
    category = ARXIV[0]["categories"][0]
    params = {"q": "model", "cat": category, "from": "2026-06-01", "sort": "date"}
    html = http.get("/search", params=params).text
    ids = re.findall(r'<h2 id="t-[^"]+"><a href="/papers/([^"]+)">', html)
    by_id = {r["arxiv_id"]: r for r in ARXIV}
    assert ids
    for arxiv_id in ids:
        assert category in by_id[arxiv_id]["categories"]
        assert by_id[arxiv_id]["published"] >= "2026-06-01"
    assert f'value="{category}"' in html
    assert '<option value="date" selected>' in html
    assert "/feeds/search.atom?q=model" in html and f"cat={category}" in html


def test_the_page_draws_matches_per_month_as_svg(http: httpx.Client) -> None:
    html = http.get("/search", params={"q": "learning"}).text
    chart = re.search(r'<figure class="month-chart">.*?</figure>', html, re.S)
    assert chart is not None
    bars = re.findall(r"<title>(\d{4}-\d{2}): (\d+)</title>", chart[0])
    assert len(bars) >= 2
    assert sum(int(count) for _, count in bars) > 0


def test_later_pages_continue_where_the_first_ended(http: httpx.Client) -> None:
    first = http.get("/search", params={"q": "learning"}).text
    second = http.get("/search", params={"q": "learning", "page": 2}).text
    ids = re.compile(r'<h2 id="t-[^"]+"><a href="/papers/([^"]+)">')
    assert set(ids.findall(first)).isdisjoint(ids.findall(second))
    assert 'rel="next" href="/search?page=2&amp;q=learning"' in first or "page=2" in first


def raw_status(server: LiveServer, target: str) -> int:
    """GET with a raw socket: httpx refuses to build a 100 KB URL, a hostile client would not."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1])


def test_hostile_queries_answer_200_or_400_never_500(
    http: httpx.Client, live_server: LiveServer
) -> None:
    for q in ['"unbalanced', "AND OR NOT", "*", "ti:", "\x00\x07 control", "au:(", "x" * 2_000]:
        assert http.get("/search", params={"q": q}).status_code == 200, q
        assert http.get("/api/papers/search", params={"q": q}).status_code == 200, q
    huge = "q=" + "x" * 100_000
    assert raw_status(live_server, f"/search?{huge}") == 400
    assert raw_status(live_server, f"/api/papers/search?{huge}") == 400
    assert http.get("/search", params={"q": "a", "min_upvotes": "lots"}).status_code == 400
    assert http.get("/api/papers/search", params={"q": "a", "limit": 121}).status_code == 400


def test_the_api_adds_score_and_snippet_to_the_hf_shape(http: httpx.Client) -> None:
    record = ARXIV[3]
    body = http.get("/api/papers/search", params={"q": record["title"], "limit": 3}).json()
    assert body[0]["paper"]["id"] == record["arxiv_id"]
    assert body[0]["title"] == record["title"]
    assert body[0]["score"] >= body[-1]["score"] > 0
    assert isinstance(body[0]["snippet"], str)


def test_a_search_feed_keeps_the_filters(http: httpx.Client) -> None:
    category = ARXIV[0]["categories"][0]
    response = http.get("/feeds/search.atom", params={"q": "learning", "cat": category})
    feed = feedparser.parse(response.content)
    assert not feed.bozo
    assert feed.entries
    assert http.get("/feeds/search.rss").status_code == 400
