"""The derived keyword index on both backends: catch-up writes only what changed, rebuilds,
damage detection, the writer's lock."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from dailypapers.errors import Conflict
from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up, parse_query, rebuild, search_papers
from dailypapers.search.index import KEEP_GENERATIONS
from dailypapers.store import Database
from tests.integration.search.support import (
    SAMPLE_ARXIV,
    SAMPLE_HF,
    hide,
    import_samples,
    record_of,
    rewrite,
)


def ids_for(db: Database, index: SearchIndex, text: str) -> list[str]:
    result = search_papers(db, index, parse_query(text, limit=120))
    return [hit.paper.arxiv_id for hit in result.hits]


def test_the_first_catch_up_builds_the_index_and_an_import_adds_only_its_papers(
    db: Database, index: SearchIndex
) -> None:
    first = import_file(db, SAMPLE_ARXIV, parse_in_subprocess=False)
    built = catch_up(db, index)
    assert built.rebuilt
    assert built.docs == first.counts.papers_changed

    second = import_file(db, SAMPLE_HF, parse_in_subprocess=False)
    caught = catch_up(db, index)
    assert not caught.rebuilt
    assert caught.generation == built.generation + 1
    assert caught.read == caught.written == second.counts.papers_changed
    assert caught.skipped == caught.deleted == 0

    again = catch_up(db, index)
    assert (again.read, again.index_writes, again.generation) == (0, 0, caught.generation)


def test_a_reimport_that_changes_nothing_writes_nothing(
    sample_db: Database, index: SearchIndex
) -> None:
    catch_up(sample_db, index)
    import_samples(sample_db)
    report = catch_up(sample_db, index)
    assert report.index_writes == 0


def test_an_abstract_change_rewrites_that_one_document(
    sample_db: Database, index: SearchIndex
) -> None:
    catch_up(sample_db, index)
    [target, *_] = ids_for(sample_db, index, "diffusion")
    rewrite(
        sample_db,
        record_of(sample_db, target, abstract="A study of the zyxophone and its harmonics."),
    )

    report = catch_up(sample_db, index)
    assert (report.read, report.written, report.skipped) == (1, 1, 0)
    assert ids_for(sample_db, index, "zyxophone") == [target]
    assert (
        search_papers(sample_db, index, parse_query("zyxophone")).hits[0].paper.arxiv_id == target
    )


def test_rows_reread_with_an_unchanged_change_seq_are_skipped(
    sample_db: Database, index: SearchIndex
) -> None:
    built = catch_up(sample_db, index)
    # Rewind the window to the start, as if every row had committed late: all are re-read.
    meta = index.read_meta(built.generation)
    index.rewrite_meta(replace(meta, high_water=0, unseen=()))

    report = catch_up(sample_db, index)
    assert report.read == built.docs
    assert report.skipped == built.docs
    assert report.index_writes == 0
    assert report.generation == built.generation


def test_a_hidden_paper_leaves_the_index(sample_db: Database, index: SearchIndex) -> None:
    catch_up(sample_db, index)
    [target, *_] = ids_for(sample_db, index, "diffusion")
    hide(sample_db, target)

    report = catch_up(sample_db, index)
    assert (report.written, report.deleted) == (0, 1)
    assert target not in ids_for(sample_db, index, "diffusion")


def test_rebuild_publishes_a_new_generation_and_keeps_only_the_last_few(
    sample_db: Database, index: SearchIndex
) -> None:
    reports = [rebuild(sample_db, index) for _ in range(KEEP_GENERATIONS + 2)]
    assert [r.generation for r in reports] == list(range(1, KEEP_GENERATIONS + 3))
    assert index.current_generation() == reports[-1].generation
    kept = sorted(int(p.name) for p in index.generations_dir.iterdir())
    assert kept == [r.generation for r in reports[-KEEP_GENERATIONS:]]
    assert len({r.docs for r in reports}) == 1


def test_a_truncated_index_file_is_detected_and_rebuilt_from_the_store(
    sample_db: Database, index: SearchIndex, caplog: pytest.LogCaptureFixture
) -> None:
    built = catch_up(sample_db, index)
    expected = search_papers(sample_db, index, parse_query("ti:diffusion", limit=120))
    keyword = index.generation_dir(built.generation) / "keyword"
    biggest = max((p for p in keyword.iterdir() if p.is_file()), key=lambda p: p.stat().st_size)
    with biggest.open("r+b") as handle:
        handle.truncate(biggest.stat().st_size // 2)

    with caplog.at_level(logging.WARNING):
        result = search_papers(sample_db, index, parse_query("ti:diffusion", limit=120))
    assert "rebuilding" in caplog.text
    assert result.generation == built.generation + 1
    assert 0 < result.total == expected.total < 120
    assert {h.paper.arxiv_id for h in result.hits} == {h.paper.arxiv_id for h in expected.hits}


def test_a_fresh_process_detects_a_truncated_file_before_serving(
    sample_db: Database, tmp_path: Path
) -> None:
    built = catch_up(sample_db, SearchIndex(tmp_path / "index"))
    keyword = tmp_path / "index" / "generations" / f"{built.generation:07d}" / "keyword"
    store = next(p for p in keyword.iterdir() if p.suffix == ".store")
    store.write_bytes(store.read_bytes()[:-8])

    fresh = SearchIndex(tmp_path / "index")
    result = search_papers(sample_db, fresh, parse_query("diffusion"))
    assert result.generation == built.generation + 1
    assert result.total > 0


def test_a_missing_index_is_built_on_the_first_search(
    sample_db: Database, index: SearchIndex
) -> None:
    result = search_papers(sample_db, index, parse_query("diffusion"))
    assert result.generation == 1
    assert result.total > 0


def test_a_garbled_current_pointer_means_a_rebuild(sample_db: Database, index: SearchIndex) -> None:
    catch_up(sample_db, index)
    index.current_file.write_text("not a number")
    report = catch_up(sample_db, index)
    assert report.rebuilt


def test_an_index_built_from_another_store_is_rebuilt(
    sample_db: Database, index: SearchIndex, sqlite_url: str
) -> None:
    from dailypapers.store import open_database
    from dailypapers.store.migrate import upgrade

    catch_up(sample_db, index)
    other = open_database(sqlite_url.replace("store.sqlite3", "other.sqlite3"))
    try:
        upgrade(other)
        report = catch_up(other, index)
        assert report.rebuilt
        assert report.docs == 0
    finally:
        other.dispose()


def test_a_second_writer_waits_for_the_lock_and_then_gives_up(
    db: Database, index: SearchIndex
) -> None:
    with index.write_lock(1.0), pytest.raises(Conflict, match="writing the search index"):
        catch_up(db, index, lock_timeout_seconds=0.1)
