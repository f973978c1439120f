"""PostgreSQL commits out of change_seq order; catch-up must not miss the late transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from dailypapers.domain import PaperRecord
from dailypapers.search import SearchIndex, catch_up, parse_query, search_papers
from dailypapers.store import Database, open_database
from dailypapers.store.migrate import upgrade
from dailypapers.store.papers import upsert_papers
from tests.factories import make_paper

NOW = datetime(2026, 9, 1, tzinfo=UTC)
pytestmark = pytest.mark.postgres


def paper(arxiv_id: str, abstract: str, author: str, version: int = 1) -> PaperRecord:
    return make_paper(
        arxiv_id, abstract=abstract, authors=(author,), version=version, published_at=NOW
    )


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    db = open_database(pg_url)
    upgrade(db)
    yield db
    db.dispose()


def found(db: Database, index: SearchIndex, word: str) -> list[str]:
    return [h.paper.arxiv_id for h in search_papers(db, index, parse_query(word)).hits]


def write_out_of_order(db: Database, index: SearchIndex, overlap_seq: int) -> None:
    """A slow writer takes its change_seq values first and commits after a fast one; a catch-up
    runs in between."""
    with db.write() as slow:
        upsert_papers(slow, [paper("2601.00001", "The quokkaphone.", "Ada Early", 2)], now=NOW)
        upsert_papers(slow, [paper("2601.00002", "A quokkaphone too.", "Bo Slow")], now=NOW)
        with db.write() as fast:
            upsert_papers(fast, [paper("2601.00003", "The zebraphone.", "Cy Fast")], now=NOW)
        first = catch_up(db, index, overlap_seq=overlap_seq)
        assert (first.read, first.written) == (1, 1)
        assert found(db, index, "zebraphone") == ["2601.00003"]
        assert found(db, index, "quokkaphone") == []


def test_a_transaction_that_commits_after_a_later_one_is_still_indexed(
    pg_db: Database, index: SearchIndex
) -> None:
    with pg_db.write() as conn:
        upsert_papers(conn, [paper("2601.00001", "Plain text.", "Ada Early")], now=NOW)
    catch_up(pg_db, index)
    write_out_of_order(pg_db, index, overlap_seq=1_000)

    second = catch_up(pg_db, index, overlap_seq=1_000)
    assert (second.read, second.written, second.skipped) == (2, 2, 0)
    assert sorted(found(pg_db, index, "quokkaphone")) == ["2601.00001", "2601.00002"]

    third = catch_up(pg_db, index)
    assert (third.read, third.index_writes) == (0, 0)


def test_greater_than_the_last_seen_alone_would_miss_it(
    pg_db: Database, index: SearchIndex
) -> None:
    with pg_db.write() as conn:
        upsert_papers(conn, [paper("2601.00001", "Plain text.", "Ada Early")], now=NOW)
    catch_up(pg_db, index)
    write_out_of_order(pg_db, index, overlap_seq=0)

    assert catch_up(pg_db, index, overlap_seq=0).read == 0
    assert found(pg_db, index, "quokkaphone") == []
