"""Every upstream parser (OAI-PMH, the arXiv API's Atom, arXiv's RSS) fed hostile documents from a
local server: entity bombs, external entities, malformed, truncated, huge and deeply nested XML,
and records whose fields are attacks. Each is a clean SourceUnavailable (or a refused record),
nothing is stored from a refused page, and memory stays flat (defusedxml, DTDs forbidden).
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from dailypapers.errors import DailyPapersError, SourceUnavailable
from dailypapers.ingest.harvest import harvest
from dailypapers.sources import ArxivSources
from dailypapers.sources.safe_xml import parse_xml
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from dailypapers.store.schema import papers
from tests.integration.harvest_child import open_sources
from tests.integration.hostile.corpus import XSS
from tests.integration.replay_server import ReplayServer, Reply, billion_laughs

ATOM = "http://www.w3.org/2005/Atom"
BOMBS: dict[str, bytes] = {
    "billion laughs": billion_laughs(levels=10),
    "quadratic blowup": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
        + b"x" * 50_000
        + b'">]><r>'
        + b"&a;" * 50_000
        + b"</r>"
    ),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    ),
    "external DTD": b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>',
    "parameter entity": (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><r/>'
    ),
    "xinclude": (
        b'<r xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd" '
        b'parse="text"/></r>'
    ),
    "malformed": b"<feed><entry><title>unclosed",
    "not xml": b"\x00\x01\x02 binary garbage \xff\xfe",
    "empty": b"",
    "deeply nested": b"<a>" * 100_000 + b"</a>" * 100_000,
    "invalid utf-8": b'<?xml version="1.0" encoding="utf-8"?><r>d\xe9j\xe0</r>',
    "html error page": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
}


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def arxiv(db: Database, server: ReplayServer) -> Iterator[ArxivSources]:
    with open_sources(db, server.url, retries=0, backoff=0.01) as sources:
        yield sources


def _calls(db: Database, arxiv: ArxivSources) -> dict[str, Callable[[], object]]:
    return {
        "oai": lambda: harvest(db, arxiv.oai, set_spec="cs"),
        "api": lambda: arxiv.api.fetch_paper("2605.09001"),
        "api search": lambda: arxiv.api.search("all:attention"),
        "rss": lambda: arxiv.rss.fetch_announcements(["cs.LG"]),
    }


def _stored(db: Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(papers)).scalar_one())


@pytest.mark.parametrize("name", list(BOMBS))
def test_every_parser_refuses_hostile_xml_cleanly_and_stores_nothing(
    db: Database, arxiv: ArxivSources, server: ReplayServer, name: str
) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for parser, call in _calls(db, arxiv).items():
        server.push(Reply(body=BOMBS[name]))
        error: DailyPapersError | None = None
        try:
            result = call()
        except DailyPapersError as exc:
            error = exc
        if error is None:  # only a well-formed document with nothing in it may parse
            assert name == "xinclude", (parser, name, result)
        else:
            assert isinstance(error, SourceUnavailable), (parser, name, error)
            assert str(error) and "Traceback" not in str(error), (parser, name)
    assert _stored(db) == 0
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"{name}: memory grew by {grown_mib:.0f} MiB"


def test_the_safe_parser_itself_refuses_every_dtd() -> None:
    for name in ("billion laughs", "quadratic blowup", "external entity", "parameter entity"):
        with pytest.raises(SourceUnavailable, match="DTD or entities"):
            parse_xml(BOMBS[name], "test")
    root = parse_xml(BOMBS["xinclude"], "test")  # parsed, but XInclude is never processed
    assert "root:" not in "".join(root.itertext())


def _entry(arxiv_id: str, title: str, summary: str, author: str) -> str:
    esc = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

    def x(text: str) -> str:
        return "".join(esc.get(ch, ch) for ch in text)

    return (
        f"<entry><id>http://arxiv.org/abs/{x(arxiv_id)}v1</id>"
        f"<published>2026-05-01T00:00:00Z</published><updated>2026-05-01T00:00:00Z</updated>"
        f"<title>{x(title)}</title><summary>{x(summary)}</summary>"
        f"<author><name>{x(author)}</name></author></entry>"
    )


def test_api_records_with_hostile_fields_are_text_or_refused(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    entries = "".join(
        [
            _entry("2605.09001", XSS[0], XSS[1], XSS[2]),
            _entry("../../etc/passwd", "t", "s", "a"),
            _entry("2605.09003' OR '1'='1", "t", "s", "a"),
            _entry("2605.09004", "", "s", "a"),
            _entry("2605.09005", "x" * 2_000_000, "s", "a"),
        ]
    )
    feed = f'<feed xmlns="{ATOM}">{entries}</feed>'.encode()
    server.push(Reply(body=feed, content_type="application/atom+xml"))
    try:
        results = arxiv.api.search("all:x")
    except SourceUnavailable:
        return  # refusing the whole page is clean too
    ids = [r.arxiv_id for r in results.records]
    assert "2605.09001" in ids
    assert all("/" not in i and "'" not in i for i in ids), ids
    hostile = next(r for r in results.records if r.arxiv_id == "2605.09001")
    assert hostile.title == XSS[0]  # kept as text; every renderer escapes it
