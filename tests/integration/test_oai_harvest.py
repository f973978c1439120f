"""The OAI-PMH harvester against a local server replaying real arXiv captures split into pages."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from dailypapers.errors import SourceUnavailable
from dailypapers.ingest.harvest import harvest
from dailypapers.sources import ArxivSources
from dailypapers.sources.oai import BadResumptionToken
from dailypapers.store import Database
from dailypapers.store.harvests import find_cursor, list_cursors
from dailypapers.store.schema import ingest_runs, paper_authors, paper_versions, papers
from tests.conftest import REPO
from tests.integration.harvest_child import TEST_CONTACT, open_sources
from tests.integration.replay_server import (
    OAI_DATA,
    OaiList,
    ReplayServer,
    Reply,
    Seen,
    billion_laughs,
    oai_error,
    oai_list,
)

SET = "physics:hep-ex"
DAY = date(2017, 12, 14)


@pytest.fixture
def pages() -> OaiList:
    return oai_list([3, 2, 2, 2])


@pytest.fixture
def server(pages: OaiList) -> Iterator[ReplayServer]:
    with ReplayServer(pages.respond) as replay:
        yield replay


@pytest.fixture
def arxiv(db: Database, server: ReplayServer) -> Iterator[ArxivSources]:
    with open_sources(db, server.url) as sources:
        yield sources


def stored_ids(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(select(papers.c.arxiv_id)).scalars())


def run_statuses(db: Database) -> list[str]:
    with db.read() as conn:
        return list(conn.execute(select(ingest_runs.c.status).order_by(ingest_runs.c.id)).scalars())


def test_a_full_harvest_stores_every_record_of_every_page(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    progress: list[tuple[int, int]] = []
    report = harvest(
        db,
        arxiv.oai,
        set_spec=SET,
        from_date=DAY,
        until=DAY,
        progress=lambda page, counts: progress.append((page, counts.papers_seen)),
    )

    assert (report.pages, report.counts.papers_seen, report.counts.rejects) == (4, 9, 0)
    assert progress == [(1, 3), (2, 5), (3, 7), (4, 9)]
    assert stored_ids(db) == sorted(pages.all_ids)
    first, *rest = server.seen
    assert first.path == "/oai"
    assert first.query == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": SET,
        "from": "2017-12-14",
        "until": "2017-12-14",
    }
    assert [s.query for s in rest] == [
        {"verb": "ListRecords", "resumptionToken": token} for token in pages.tokens
    ]
    with db.read() as conn:
        paper = conn.execute(select(papers).where(papers.c.arxiv_id == "1706.05371")).one()
    assert paper.title == (
        "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid Xenon Detectors"
    )
    assert paper.authors.startswith('["Tyler Anderson", "Jacob Cutter"')
    assert (paper.primary_category, paper.categories) == (
        "physics.ins-det",
        "physics.ins-det hep-ex",
    )
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert paper.abstract.startswith("Silicon photomultipliers (SiPMs) are potential")
    assert paper.published_at == datetime(2017, 6, 16, tzinfo=UTC)
    assert paper.updated_at == datetime(2017, 12, 12, tzinfo=UTC)
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token, cursor.pages, cursor.records) == (
        "ok",
        None,
        4,
        9,
    )
    assert cursor.last_datestamp == DAY
    assert list_cursors(db) == [cursor]
    assert run_statuses(db) == ["ok"]


def test_the_new_oai_service_layout_maps_doi_journal_ref_and_escaped_text(
    db: Database, arxiv: ArxivSources
) -> None:
    harvest(db, arxiv.oai, set_spec=SET, from_date=DAY, until=DAY)
    with db.read() as conn:
        paper = conn.execute(select(papers).where(papers.c.arxiv_id == "2504.11237")).one()
    assert paper.title == "Periodic table for highly charged ions"
    assert paper.doi == "10.1103/bppp-53g1"
    assert paper.journal_ref == "Phys. Rev. Research 7, L042071 (2025)"
    assert paper.abstract.startswith("Mendeleev's periodic table")
    assert paper.authors == '["Chunhai Lyu", "Christoph H. Keitel", "Zoltán Harman"]'


def test_reharvesting_the_same_day_changes_nothing(db: Database, arxiv: ArxivSources) -> None:
    harvest(db, arxiv.oai, set_spec=SET, from_date=DAY, until=DAY)
    with db.read() as conn:
        before = conn.execute(select(func.max(papers.c.change_seq))).scalar()
    again = harvest(db, arxiv.oai, set_spec=SET, from_date=DAY, until=DAY)
    assert (again.counts.papers_seen, again.counts.papers_changed) == (9, 0)
    with db.read() as conn:
        assert conn.execute(select(func.max(papers.c.change_seq))).scalar() == before


def test_an_incremental_harvest_starts_at_the_last_successful_datestamp(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    harvest(db, arxiv.oai, set_spec=SET, from_date=DAY, until=DAY)
    harvest(db, arxiv.oai, set_spec=SET)
    incremental = server.seen[4].query
    assert incremental["from"] == "2017-12-14"
    assert "until" not in incremental


def test_a_harvest_killed_after_page_two_of_four_resumes_without_duplicates_or_gaps(
    db: Database, pages: OaiList, server: ReplayServer
) -> None:
    release = threading.Event()

    def hold_page_three(seen: Seen) -> Reply:
        reply = pages.respond(seen)
        if pages.page_of(seen) == 2 and not release.is_set():
            reply.hold = release
        return reply

    server.responder = hold_page_three
    url = db.engine.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.harvest_child", url, server.url, SET, "0.05"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        seen = server.wait_for_requests(3)
        # Page 3 is only asked for once pages 1 and 2 and their tokens are committed.
        assert seen[2].query["resumptionToken"] == pages.tokens[1]
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
        child.communicate()

    assert stored_ids(db) == sorted(pages.ids[0] + pages.ids[1])
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token, cursor.pages) == ("running", pages.tokens[1], 2)

    with open_sources(db, server.url) as arxiv:
        report = harvest(db, arxiv.oai, set_spec=SET)
    assert report.resumed
    assert (report.pages, report.counts.papers_seen) == (2, 4)
    assert [s.query.get("resumptionToken") for s in server.seen[3:]] == pages.tokens[1:]
    assert stored_ids(db) == sorted(pages.all_ids)
    with db.read() as conn:
        links = conn.execute(
            select(paper_authors.c.arxiv_id, func.count()).group_by(paper_authors.c.arxiv_id)
        ).all()
        listed = {
            row.arxiv_id: row.authors.count('", "') + 1 for row in conn.execute(select(papers))
        }
    assert dict(links) == listed
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token, cursor.pages, cursor.records) == (
        "ok",
        None,
        4,
        9,
    )


def test_a_503_with_retry_after_is_honoured_then_the_harvest_succeeds(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    server.push(Reply(503, b"busy", headers={"Retry-After": "1"}, content_type="text/plain"))
    report = harvest(db, arxiv.oai, set_spec=SET)
    assert report.counts.papers_seen == 9
    assert server.seen[0].query == server.seen[1].query
    assert server.gaps()[0] >= 1.0


def test_a_429_backs_off_and_retries(db: Database, server: ReplayServer) -> None:
    server.push(Reply(429, b"slow down", content_type="text/plain"))
    with open_sources(db, server.url, backoff=0.5) as arxiv:
        report = harvest(db, arxiv.oai, set_spec=SET)
    assert report.counts.papers_seen == 9
    assert server.gaps()[0] >= 0.5


def test_an_upstream_that_stays_down_fails_clearly_and_keeps_the_cursor(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    server.responder = lambda seen: (
        pages.respond(seen) if pages.page_of(seen) == 0 else Reply(502, b"bad gateway")
    )
    with pytest.raises(SourceUnavailable, match=r"HTTP 502\) after 4 attempts"):
        harvest(db, arxiv.oai, set_spec=SET)
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token) == ("failed", pages.tokens[0])
    assert run_statuses(db) == ["failed"]


def test_a_truncated_page_stops_with_a_clear_error_and_harms_nothing_stored(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    page_three = pages.pages[2]
    server.responder = lambda seen: (
        Reply(body=page_three[: len(page_three) // 2])
        if pages.page_of(seen) == 2
        else pages.respond(seen)
    )
    with pytest.raises(SourceUnavailable, match="malformed or truncated XML"):
        harvest(db, arxiv.oai, set_spec=SET)
    assert stored_ids(db) == sorted(pages.ids[0] + pages.ids[1])
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token) == ("failed", pages.tokens[1])
    assert "truncated" in (cursor.error or "")

    server.responder = pages.respond
    assert harvest(db, arxiv.oai, set_spec=SET).resumed
    assert stored_ids(db) == sorted(pages.all_ids)


def test_a_connection_cut_mid_body_is_retried(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    server.push(Reply(body=pages.pages[0], cut_after=len(pages.pages[0]) // 2))
    assert harvest(db, arxiv.oai, set_spec=SET).counts.papers_seen == 9
    assert len(server.seen) == 5


def test_an_entity_expansion_bomb_is_refused_with_memory_staying_flat(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.push(Reply(body=billion_laughs(levels=10)))
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SourceUnavailable, match="DTD or entities, refused unparsed"):
        harvest(db, arxiv.oai, set_spec=SET)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kib
    # Expanded, the document would be 3 * 10**9 characters; refused, it costs nothing.
    assert grown_kib < 20 * 1024
    assert stored_ids(db) == []


def test_an_external_entity_is_refused(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.push(
        Reply(
            body=b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&x;</OAI-PMH>'
        )
    )
    with pytest.raises(SourceUnavailable, match="refused unparsed"):
        harvest(db, arxiv.oai, set_spec=SET)


def test_a_bad_resumption_token_stops_and_the_next_run_lists_again(
    db: Database, arxiv: ArxivSources, server: ReplayServer, pages: OaiList
) -> None:
    server.responder = lambda seen: (
        Reply(body=oai_error("badResumptionToken", "The value is invalid."))
        if pages.page_of(seen) == 1 and len(server.seen) == 2
        else pages.respond(seen)
    )
    with pytest.raises(BadResumptionToken, match="refused the resumption token"):
        harvest(db, arxiv.oai, set_spec=SET, from_date=DAY)
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.resumption_token) == ("failed", None)
    assert stored_ids(db) == sorted(pages.ids[0])

    report = harvest(db, arxiv.oai, set_spec=SET)
    assert not report.resumed
    assert server.seen[2].query["from"] == "2017-12-14"
    assert stored_ids(db) == sorted(pages.all_ids)


def test_no_records_match_counts_as_an_empty_harvest(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.push(Reply(body=oai_error("noRecordsMatch", "No records match.")))
    report = harvest(db, arxiv.oai, set_spec=SET, from_date=DAY, until=DAY)
    assert (report.pages, report.counts.papers_seen) == (1, 0)
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None
    assert (cursor.status, cursor.last_datestamp) == ("ok", DAY)
    assert run_statuses(db) == ["ok"]


def test_requests_share_one_connection_and_name_dailypapers(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    harvest(db, arxiv.oai, set_spec=SET)
    assert len({s.client_port for s in server.seen}) == 1
    agent = server.seen[0].user_agent
    assert agent.startswith("dailypapers/")
    assert f"mailto:{TEST_CONTACT}" in agent


def test_get_record_reads_one_paper_and_none_for_an_unknown_id(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.push(
        Reply(body=(OAI_DATA / "getrecord-arXiv-1401.2122.xml").read_bytes()),
        Reply(body=oai_error("idDoesNotExist", "No matching identifier")),
    )
    paper = arxiv.oai.get_record("1401.2122")
    assert paper is not None
    assert paper.title == "New integrable (3+1)-dimensional systems and contact geometry"
    assert paper.doi == "10.1007/s11005-017-1013-4"
    assert paper.categories[0] == "math.AP"
    assert arxiv.oai.get_record("0000.00000") is None
    assert server.seen[0].query == {
        "verb": "GetRecord",
        "identifier": "oai:arXiv.org:1401.2122",
        "metadataPrefix": "arXiv",
    }


def test_arxivraw_records_carry_their_versions_and_withdrawals(
    db: Database, arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.push(Reply(body=(OAI_DATA / "constructed-listrecords-arXivRaw.xml").read_bytes()))
    report = harvest(db, arxiv.oai, set_spec="math", metadata_prefix="arXivRaw")
    assert report.counts.papers_seen == 2
    assert server.seen[0].query["metadataPrefix"] == "arXivRaw"
    with db.read() as conn:
        rows = conn.execute(select(papers).order_by(papers.c.arxiv_id)).all()
    assert [(r.arxiv_id, r.latest_version) for r in rows] == [("1401.2122", 5), ("9912.99999", 2)]
    assert rows[0].authors == '["A. Sergyeyev"]'
    assert rows[0].published_at == datetime(2014, 1, 9, 13, 20, 1, tzinfo=UTC)
    with db.read() as conn:
        versions = conn.execute(
            select(
                paper_versions.c.arxiv_id, paper_versions.c.version, paper_versions.c.withdrawn
            ).order_by(paper_versions.c.arxiv_id, paper_versions.c.version)
        ).all()
    assert [tuple(v) for v in versions] == [
        *[("1401.2122", n, False) for n in range(1, 6)],
        ("9912.99999", 1, False),
        ("9912.99999", 2, True),
    ]
