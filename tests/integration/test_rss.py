"""The rss.arxiv.org reader against a local server replaying a real feed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select

from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.ingest.announcements import ingest_announcements
from dailypapers.sources import ArxivSources
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from dailypapers.store.schema import papers
from tests.integration.harvest_child import open_sources
from tests.integration.replay_server import RSS_DATA, ReplayServer, Reply

FEED = RSS_DATA / "rss-cs.LG+cs.AI+cs.CL+stat.ML-2026-09-24-4-items.rss"
CATEGORIES = ["cs.LG", "cs.AI", "cs.CL", "stat.ML"]


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    def respond(seen: object) -> Reply:
        return Reply(body=FEED.read_bytes(), content_type="application/rss+xml")

    with ReplayServer(respond) as replay:
        yield replay


@pytest.fixture
def arxiv(sqlite_url: str, server: ReplayServer) -> Iterator[ArxivSources]:
    db: Database = open_database(sqlite_url)
    upgrade(db)
    with open_sources(db, server.url, retries=1, backoff=0.01) as sources:
        yield sources
    db.dispose()


def test_the_feed_yields_each_announcement_with_its_type(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    announcements = arxiv.rss.fetch_announcements(CATEGORIES)
    assert server.seen[0].path == "/rss/cs.LG+cs.AI+cs.CL+stat.ML"
    assert [(a.record.arxiv_id, a.record.version, a.announce_type) for a in announcements] == [
        ("2609.26811", 1, "new"),
        ("2609.26820", 1, "new"),
        ("2205.06398", 2, "cross"),
        ("2009.13987", 3, "replace"),
    ]
    assert {a.announced_on for a in announcements} == {date(2026, 9, 24)}


def test_an_announcement_carries_the_paper_metadata(arxiv: ArxivSources) -> None:
    first, second, cross, _ = arxiv.rss.fetch_announcements(CATEGORIES)
    paper = first.record
    assert paper.title == "The Drift Contract: Spectral Updates for Depth-Robust Local Learning"
    assert paper.authors == ("Fabien Polly",)
    assert paper.abstract.startswith("Local learning trains each layer with its own auxiliary")
    assert "Announce Type" not in paper.abstract
    assert paper.categories == ("cs.LG",)
    assert paper.license == "http://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert second.record.authors == (
        "Naser Mansour",
        "Sidahmed Benabderrahmane",
        "Ameer Rahwan",
    )
    assert cross.record.primary_category == "stat.ME"
    assert cross.record.doi == "10.1093/bioinformatics/btac431"


def test_a_category_list_that_is_not_arxiv_categories_is_refused(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    with pytest.raises(InvalidRequest):
        arxiv.rss.fetch_announcements(["cs.LG/../../etc"])
    assert server.seen == []


def test_a_feed_that_is_not_rss_is_a_clear_error(arxiv: ArxivSources, server: ReplayServer) -> None:
    server.push(Reply(body=b"<html><body>maintenance</body></html>"))
    with pytest.raises(SourceUnavailable, match="other than an RSS channel"):
        arxiv.rss.fetch_announcements(["cs.LG"])


def test_the_days_announcements_go_into_the_store_once(
    sqlite_url: str, server: ReplayServer
) -> None:
    db = open_database(sqlite_url)
    upgrade(db)
    with open_sources(db, server.url) as arxiv:
        first = ingest_announcements(db, arxiv.rss, CATEGORIES)
        again = ingest_announcements(db, arxiv.rss, CATEGORIES)
    with db.read() as conn:
        stored = dict(conn.execute(select(papers.c.arxiv_id, papers.c.latest_version)).all())
    db.dispose()
    assert first.by_type == {"new": 2, "cross": 1, "replace": 1}
    assert first.announced_on == date(2026, 9, 24)
    assert (first.counts.papers_changed, again.counts.papers_changed) == (4, 0)
    assert stored == {"2609.26811": 1, "2609.26820": 1, "2205.06398": 2, "2009.13987": 3}
