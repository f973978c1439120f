"""RSS and Atom feeds through uvicorn: they parse with feedparser, keep stable guids, and answer
conditional GETs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import feedparser
import httpx
import pytest

from tests.integration.web_server import HOSTILE_ID, HOSTILE_TITLE, sample_hf

SAMPLE = sample_hf()
LATEST = max(Counter(r["daily_date"] for r in SAMPLE))
FEEDS = [
    "/feeds/daily",
    "/feeds/trending",
    "/feeds/authors/Zo%C3%AB%20%C3%9Cn%C3%AFcode-Author",
    "/feeds/search",
]


def _url(feed: str, kind: str) -> str:
    return f"{feed}.{kind}" + ("?q=attention" if feed.endswith("search") else "")


@pytest.mark.parametrize("feed", FEEDS)
@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feeds_are_well_formed_and_parse(http: httpx.Client, feed: str, kind: str) -> None:
    response = http.get(_url(feed, kind))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(f"application/{kind}+xml")
    ET.fromstring(response.content)  # well-formed XML
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if kind == "rss" else "atom10")
    assert parsed.entries
    for entry in parsed.entries:
        assert entry.id.startswith("https://arxiv.org/abs/")
        assert entry.link.startswith("http://testserver.invalid/papers/")
        assert entry.title and entry.summary


def test_rss_and_atom_carry_the_same_stable_guids(http: httpx.Client) -> None:
    rss = feedparser.parse(http.get("/feeds/daily.rss").content)
    atom = feedparser.parse(http.get("/feeds/daily.atom").content)
    again = feedparser.parse(http.get("/feeds/daily.rss").content)
    assert (
        [e.id for e in rss.entries] == [e.id for e in atom.entries] == [e.id for e in again.entries]
    )
    newest = {r["arxiv_id"] for r in SAMPLE if r["daily_date"] == LATEST}
    assert {
        e.id.removeprefix("https://arxiv.org/abs/") for e in rss.entries[: len(newest)]
    } == newest


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feeds_answer_conditional_gets(http: httpx.Client, kind: str) -> None:
    first = http.get(f"/feeds/daily.{kind}")
    assert first.headers["etag"]
    assert first.headers["last-modified"].endswith("GMT")
    by_etag = http.get(f"/feeds/daily.{kind}", headers={"If-None-Match": first.headers["etag"]})
    assert by_etag.status_code == 304
    by_date = http.get(
        f"/feeds/daily.{kind}", headers={"If-Modified-Since": first.headers["last-modified"]}
    )
    assert by_date.status_code == 304
    stale = http.get(
        f"/feeds/daily.{kind}", headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    )
    assert stale.status_code == 200


def test_a_hostile_title_stays_text_in_feeds(http: httpx.Client) -> None:
    for kind in ("rss", "atom"):
        response = http.get(f"/feeds/authors/Bob%20%3Ci%3EItalic%3C%2Fi%3E.{kind}")
        assert b"<script>" not in response.content
        root = ET.fromstring(response.content)
        titles = [el.text for el in root.iter() if el.tag.endswith("title")]
        assert HOSTILE_TITLE in titles
    assert HOSTILE_ID


def test_feed_errors(http: httpx.Client) -> None:
    assert http.get("/feeds/daily.json").status_code == 400
    assert http.get("/feeds/search.rss").status_code == 400
    assert http.get("/feeds/authors/Nobody%20Here.rss").status_code == 404
