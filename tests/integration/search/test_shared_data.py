"""The acceptance searches on a slice of the real papers in ../shared/data, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from dailypapers.ingest.importer import import_file
from dailypapers.search import SearchIndex, catch_up
from dailypapers.store import Database
from tests.integration.search.checks import (
    check_author_search,
    check_category_filter,
    check_date_filter_with_a_rare_term,
    check_exact_titles_come_first,
    scan,
)
from tests.integration.search.support import head_of

pytestmark = pytest.mark.shared
# Enough papers for rare words, repeated authors and several months; small enough for seconds.
ARXIV_LINES = 3_000
HF_LINES = 1_000


def test_the_acceptance_searches_hold_on_the_shared_papers(
    db: Database, index: SearchIndex, shared_dir: Path, tmp_path: Path
) -> None:
    data = shared_dir / "data"
    for name, lines in (
        ("arxiv_sample.jsonl.gz", ARXIV_LINES),
        ("hf_daily_papers.jsonl.gz", HF_LINES),
    ):
        import_file(
            db,
            head_of(data / name, tmp_path / name.removesuffix(".gz"), lines),
            parse_in_subprocess=False,
        )
    report = catch_up(db, index)
    corpus = scan(db)
    assert report.docs == len(corpus) > ARXIV_LINES

    assert check_exact_titles_come_first(db, index, corpus) >= 20
    check_author_search(db, index, corpus)
    check_category_filter(db, index, corpus)
    check_date_filter_with_a_rare_term(db, index, corpus)
