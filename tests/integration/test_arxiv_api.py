"""The arXiv query API client against a local server replaying real API feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dailypapers.config import load_settings
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.services import build
from dailypapers.sources import ArxivSources
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from tests.integration.harvest_child import open_sources
from tests.integration.replay_server import API_DATA, ReplayServer, Reply, Seen

# id_list value -> the real capture arXiv answered it with.
BY_ID_LIST = {
    "1707.08567": "query-id_list-1707.08567.atom",
    "0808.05394,1707.08567": "query-id_list-0808.05394-1707.08567-one-missing.atom",
    "astro-ph/0601001": "query-id_list-astro-ph-0601001-old-style-id.atom",
    "2104.12255v1": "query-id_list-2104.12255v1-versioned.atom",
    "0000.0000": "query-id_list-0000.0000-zero-results.atom",
    "1111.2011v2": "legacy-2016-query-id_list-1111.2011v2.atom",
}
BY_QUERY = {
    "all:transformer AND cat:cs.LG": (
        "query-all-transformer-AND-cat-cs.LG-sortBy-submittedDate-max5.atom"
    ),
    "au:del_maestro": "legacy-2016-query-search_query-au-del_maestro.atom",
}


def respond(seen: Seen) -> Reply:
    content = "application/atom+xml; charset=utf-8"
    id_list = seen.query.get("id_list")
    if id_list in BY_ID_LIST:
        return Reply(body=(API_DATA / BY_ID_LIST[id_list]).read_bytes(), content_type=content)
    if id_list == "abc":
        error = (API_DATA / "error-400-incorrect-id-format.atom").read_bytes()
        return Reply(400, error, content_type=content)
    query = seen.query.get("search_query", "")
    if query in BY_QUERY:
        return Reply(body=(API_DATA / BY_QUERY[query]).read_bytes(), content_type=content)
    return Reply(404, b"not captured", content_type="text/plain")


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[Database]:
    """The API client's budget lives in the store; one backend is enough for these tests."""
    db = open_database(sqlite_url)
    upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer(respond) as replay:
        yield replay


@pytest.fixture
def arxiv(sqlite_db: Database, server: ReplayServer) -> Iterator[ArxivSources]:
    with open_sources(sqlite_db, server.url, retries=2, backoff=0.01) as sources:
        yield sources


def test_fetch_paper_reads_a_paper_in_the_current_feed_layout(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    paper = arxiv.api.fetch_paper("1707.08567")
    assert paper is not None
    assert paper.arxiv_id == "1707.08567"
    assert paper.version == 1
    assert paper.title.startswith("Proceedings of Workshop AEW10")
    assert len(paper.authors) == 34
    assert paper.authors[0] == "Kees A. Schouhamer Immink"
    assert "Dirk Wübben" in paper.authors
    assert paper.categories == ("cs.IT",)
    assert paper.comment is not None and paper.comment.startswith("44 pages")
    assert paper.published_at == datetime(2017, 7, 27, 8, 18, 33, tzinfo=UTC)
    assert [v.version for v in paper.versions] == [1]
    assert server.seen[0].path == "/api/query"
    assert server.seen[0].query["id_list"] == "1707.08567"


def test_fetch_paper_takes_an_old_style_id_with_a_slash(arxiv: ArxivSources) -> None:
    paper = arxiv.api.fetch_paper("astro-ph/0601001")
    assert paper is not None
    assert (paper.arxiv_id, paper.version) == ("astro-ph/0601001", 1)
    assert paper.journal_ref == "ActaAstron.56:1-50,2006"
    assert paper.primary_category == "astro-ph"
    assert paper.abstract.startswith("We derive the frequencies of hot Jupiters")
    assert "V_max<17.5" in paper.abstract


def test_fetch_paper_takes_a_versioned_id(arxiv: ArxivSources, server: ReplayServer) -> None:
    paper = arxiv.api.fetch_paper("2104.12255v1")
    assert paper is not None
    assert (paper.arxiv_id, paper.version, paper.title) == ("2104.12255", 1, "0")
    assert server.seen[0].query["id_list"] == "2104.12255v1"


def test_fetch_paper_reads_the_legacy_feed_layout(arxiv: ArxivSources) -> None:
    paper = arxiv.api.fetch_paper("1111.2011v2")
    assert paper is not None
    assert (paper.arxiv_id, paper.version) == ("1111.2011", 2)
    assert paper.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert paper.doi == "10.1103/PhysRevB.85.115117"
    assert paper.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert paper.comment == "8 pages, 3 figures. Published version"
    assert paper.categories == ("cond-mat.str-el", "cond-mat.stat-mech")
    assert paper.updated_at == datetime(2012, 4, 2, 12, 38, 54, tzinfo=UTC)
    assert paper.versions[0].submitted_at == paper.updated_at


def test_fetch_paper_is_none_when_arxiv_has_zero_results(arxiv: ArxivSources) -> None:
    assert arxiv.api.fetch_paper("0000.0000") is None


def test_the_400_error_feed_becomes_an_invalid_request(arxiv: ArxivSources) -> None:
    with pytest.raises(InvalidRequest, match="incorrect id format for abc"):
        arxiv.api.fetch_papers(["abc"])


def test_an_id_that_is_not_an_arxiv_id_is_refused_before_asking(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    with pytest.raises(InvalidRequest, match="not an arXiv identifier"):
        arxiv.api.fetch_paper("abc")
    assert server.seen == []


def test_fetch_papers_leaves_out_the_ids_arxiv_does_not_know(arxiv: ArxivSources) -> None:
    found = arxiv.api.fetch_papers(["0808.05394", "1707.08567"])
    assert [p.arxiv_id for p in found] == ["1707.08567"]


def test_search_reads_a_page_and_its_total(arxiv: ArxivSources) -> None:
    results = arxiv.api.search("all:transformer AND cat:cs.LG", max_results=5)
    assert (len(results.records), results.total_results, results.start_index) == (5, 28946, 0)
    assert all(r.arxiv_id.startswith("2606.") for r in results.records)
    legacy = arxiv.api.search("au:del_maestro", max_results=10)
    assert (len(legacy.records), legacy.total_results) == (10, 31)
    assert all(any(a.endswith("Del Maestro") for a in r.authors) for r in legacy.records)


def test_an_api_that_stays_down_raises_source_unavailable(
    arxiv: ArxivSources, server: ReplayServer
) -> None:
    server.responder = lambda seen: Reply(503, b"down", content_type="text/plain")
    with pytest.raises(SourceUnavailable, match=r"HTTP 503\) after 3 attempts"):
        arxiv.api.fetch_paper("1707.08567")
    assert len(server.seen) == 3


def test_an_unreachable_api_raises_source_unavailable(sqlite_db: Database) -> None:
    with ReplayServer() as gone:
        url = gone.url
    with (
        open_sources(sqlite_db, url, retries=1, backoff=0.01) as arxiv,
        pytest.raises(SourceUnavailable, match="ConnectError"),
    ):
        arxiv.api.fetch_paper("1707.08567")


def test_the_composition_root_wires_the_api_client_from_settings(
    tmp_path: Path, server: ReplayServer
) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        arxiv_api_url=f"{server.url}/api/query",
        arxiv_min_interval_seconds=0.05,
        contact_email="ops@example.org",
    )
    services = build(settings)
    upgrade(services.db)
    with services.open_arxiv() as arxiv:
        paper = arxiv.api.fetch_paper("1707.08567")
    services.close()
    assert paper is not None
    assert server.seen[0].user_agent.endswith("(mailto:ops@example.org)")
