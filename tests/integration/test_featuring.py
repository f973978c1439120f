"""Feature rules on both backends: which harvested papers join the newest arXiv mailing day."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dailypapers.catalog import featured_period
from dailypapers.domain import FeaturedRecord, PaperRecord
from dailypapers.domain.periods import day_period
from dailypapers.errors import InvalidRequest
from dailypapers.ingest.featuring import feature_harvested
from dailypapers.search.catchup import catch_up
from dailypapers.search.index import SearchIndex
from dailypapers.store import Database
from dailypapers.store.papers import upsert_papers
from tests.factories import feature_rules, make_paper

# Thursday 2026-09-24, 10:00 Eastern: Wednesday evening's announcement is dated today.
NOW = datetime(2026, 9, 24, 14, 0, tzinfo=UTC)
MAILING_DAY = date(2026, 9, 24)


def _paper(arxiv_id: str, title: str, categories: tuple[str, ...], age_days: float) -> PaperRecord:
    return make_paper(
        arxiv_id,
        title=title,
        abstract=f"An abstract about {title.lower()}.",
        published_at=NOW - timedelta(days=age_days),
        categories=categories,
    )


@pytest.fixture
def harvested(db: Database, tmp_path: Path) -> SearchIndex:
    records = [
        _paper("2609.00001", "Sparse attention for long contexts", ("cs.LG", "cs.CL"), 1),
        _paper("2609.00002", "Quark gluon plasma at the LHC", ("hep-ex",), 1),
        _paper("2609.00003", "Diffusion models for proteins", ("q-bio.BM", "cs.LG"), 2),
        _paper("2609.00004", "A learning-rate warmup study", ("cs.L",), 1),
        _paper("2401.00005", "Old attention paper, new version", ("cs.LG",), 200),
    ]
    with db.write() as conn:
        upsert_papers(conn, records, now=NOW)
    index = SearchIndex(tmp_path / "index")
    catch_up(db, index)
    return index


def _listed(db: Database) -> list[str]:
    return sorted(p.arxiv_id for p in featured_period(db, day_period(MAILING_DAY)).papers)


def test_the_default_rule_features_nothing(db: Database, harvested: SearchIndex) -> None:
    report = feature_harvested(db, harvested, feature_rules(), clock=lambda: NOW)
    assert report.featured == 0
    assert report.featured_on is None
    assert _listed(db) == []


def test_the_categories_rule_features_new_papers_listed_in_them_once(
    db: Database, harvested: SearchIndex
) -> None:
    rules = feature_rules(rule="categories", categories=("cs.LG",))
    report = feature_harvested(db, harvested, rules, clock=lambda: NOW)
    assert report.featured_on == MAILING_DAY
    assert report.featured == 2
    # Cross-lists count; the old paper and the look-alike category "cs.L" do not.
    assert _listed(db) == ["2609.00001", "2609.00003"]
    again = feature_harvested(db, harvested, rules, clock=lambda: NOW + timedelta(days=1))
    assert again.featured == 0
    assert _listed(db) == ["2609.00001", "2609.00003"]


def test_the_queries_rule_features_what_the_search_engine_matches(
    db: Database, harvested: SearchIndex
) -> None:
    rules = feature_rules(rule="queries", queries=("attention", "ti:plasma -proteins"))
    report = feature_harvested(db, harvested, rules, clock=lambda: NOW)
    assert report.matched_by_query == {"attention": 1, "ti:plasma -proteins": 1}
    assert _listed(db) == ["2609.00001", "2609.00002"]


def test_a_paper_featured_by_the_community_keeps_its_day(
    db: Database, harvested: SearchIndex
) -> None:
    earlier = date(2026, 9, 22)
    picked = _paper("2609.00001", "Sparse attention for long contexts", ("cs.LG", "cs.CL"), 1)
    with db.write() as conn:
        upsert_papers(conn, [replace(picked, featured=FeaturedRecord(earlier))], now=NOW)
    rules = feature_rules(rule="categories", categories=("cs.LG",))
    feature_harvested(db, harvested, rules, clock=lambda: NOW)
    assert _listed(db) == ["2609.00003"]
    assert [p.arxiv_id for p in featured_period(db, day_period(earlier)).papers] == ["2609.00001"]


def test_a_rule_without_its_list_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="feature_categories"):
        feature_rules(rule="categories")
    with pytest.raises(InvalidRequest, match="feature_queries"):
        feature_rules(rule="queries")
