"""An arXiv endpoint that hangs: one that never answers, one that dribbles a byte at a time. The
timeouts fire (per read, and for the whole response), the harvest records a clean failure with
its checkpoint, and the next harvest resumes from that page once arXiv answers again.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dailypapers import __version__
from dailypapers.errors import SourceUnavailable
from dailypapers.ingest.harvest import harvest
from dailypapers.sources import ArxivSources
from dailypapers.sources.arxiv import open_arxiv_sources
from dailypapers.sources.http import user_agent
from dailypapers.store import Database, open_database
from dailypapers.store.harvests import find_cursor
from dailypapers.store.limits import StoreRateSlots
from dailypapers.store.migrate import upgrade
from tests.integration.replay_server import ReplayServer, Reply, Seen, oai_list

SET = "physics:hep-ex"
TIMEOUT_SECONDS = 0.5


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    upgrade(database)
    yield database
    database.dispose()


@contextmanager
def sources(db: Database, url: str) -> Iterator[ArxivSources]:
    with open_arxiv_sources(
        StoreRateSlots(db, "arxiv"),
        oai_url=f"{url}/oai",
        api_url=f"{url}/api/query",
        rss_url=f"{url}/rss",
        min_interval_seconds=0.01,
        user_agent=user_agent(__version__, "test@example.org"),
        timeout_seconds=TIMEOUT_SECONDS,
        max_retries=1,
        backoff_seconds=0.01,
    ) as opened:
        yield opened


@contextmanager
def dribbling_server() -> Iterator[str]:
    """Answers 200 with a long body, one byte every 0.1 s: never idle long enough to time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<")
                while not stop.is_set():
                    try:
                        conn.sendall(b" ")
                    except OSError:
                        break
                    time.sleep(0.1)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_an_endpoint_that_never_answers_times_out_and_the_harvest_resumes_later(
    db: Database,
) -> None:
    pages = oai_list([3, 2, 2])
    release = threading.Event()

    def hang_on_page_two(seen: Seen) -> Reply:
        reply = pages.respond(seen)
        if pages.page_of(seen) == 1 and not release.is_set():
            reply.hold = release  # accepted, and never answered
        return reply

    with ReplayServer(hang_on_page_two) as server:
        with sources(db, server.url) as arxiv:
            started = time.monotonic()
            with pytest.raises(SourceUnavailable, match="Timeout"):
                harvest(db, arxiv.oai, set_spec=SET)
            assert time.monotonic() - started < 10 * TIMEOUT_SECONDS
        cursor = find_cursor(db, SET, "arXiv")
        assert cursor is not None
        assert (cursor.status, cursor.resumption_token, cursor.pages) == (
            "failed",
            pages.tokens[0],
            1,
        )
        release.set()
        with sources(db, server.url) as arxiv:
            report = harvest(db, arxiv.oai, set_spec=SET)
        assert report.resumed and report.pages == 2
        assert server.seen[-2].query["resumptionToken"] == pages.tokens[0]
    cursor = find_cursor(db, SET, "arXiv")
    assert cursor is not None and cursor.status == "ok" and cursor.records == 7


def test_an_endpoint_that_dribbles_bytes_hits_the_total_timeout(db: Database) -> None:
    with dribbling_server() as url, sources(db, url) as arxiv:
        started = time.monotonic()
        with pytest.raises(SourceUnavailable, match="in all"):
            arxiv.api.fetch_paper("2605.09001")
        took = time.monotonic() - started
    # Two attempts of at most 4 x the read timeout each, and no read timeout ever fired.
    assert 4 * TIMEOUT_SECONDS <= took < 2 * 4 * TIMEOUT_SECONDS + 3, took
