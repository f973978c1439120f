"""The counts over time behind the charts (catalog/activity.py, #16), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dailypapers import catalog
from dailypapers.domain import FeaturedRecord, PaperRecord
from dailypapers.domain.periods import parse_week
from dailypapers.search.results import MonthCount
from dailypapers.store import Database
from dailypapers.store.paper_edits import set_paper_hidden
from dailypapers.store.papers import upsert_papers
from dailypapers.store.users import ensure_user
from dailypapers.store.votes import add_vote
from tests.factories import make_paper

NOW = datetime(2026, 9, 20, 12, tzinfo=UTC)
MONDAY = date(2026, 9, 7)
MONDAY_AT = datetime(2026, 9, 7, tzinfo=UTC)


def _featured(arxiv_id: str, day: date, upvotes: int = 0, **fields: object) -> PaperRecord:
    return make_paper(arxiv_id, featured=FeaturedRecord(day, upvotes_baseline=upvotes), **fields)


def _store(db: Database) -> None:
    records = [
        _featured("2609.00001", MONDAY, 40, authors=("Ada Lovelace",)),
        _featured("2609.00002", MONDAY, authors=("Ada Lovelace", "Bo Other")),
        _featured("2609.00003", MONDAY + timedelta(days=2), authors=("ada  LOVELACE",)),
        _featured("2609.00004", MONDAY + timedelta(days=2)),
        _featured("2609.00005", MONDAY + timedelta(days=6)),
        _featured("2609.00006", MONDAY + timedelta(days=7)),  # the next week
        make_paper(
            "2608.00007",
            authors=("Ada Lovelace",),
            published_at=datetime(2026, 7, 30, 23, tzinfo=UTC),
        ),
        make_paper("2608.00008", authors=("Ada Lovelace",), published_at=None),
    ]
    with db.write() as conn:
        upsert_papers(conn, records, now=NOW)
        set_paper_hidden(conn, "2609.00004", True)
        for n, at in enumerate([NOW - timedelta(days=1), MONDAY_AT - timedelta(days=2), NOW]):
            user = ensure_user(conn, f"v{n}@example.org", f"v{n}", NOW)
            add_vote(conn, user.id, "2609.00001", at)
        add_vote(conn, user.id, "2608.00007", NOW - timedelta(hours=5))


def test_upvote_history_starts_at_the_featured_day_with_the_imported_baseline(
    db: Database,
) -> None:
    _store(db)
    history = catalog.upvote_history(db, catalog.paper(db, "2609.00001"))
    assert history.baseline == 40
    assert history.vote_times == (MONDAY_AT - timedelta(days=2), NOW - timedelta(days=1), NOW)
    assert history.total == catalog.paper(db, "2609.00001").upvotes == 43
    # A vote before the featured day moves the start back to it.
    assert history.starts_at == MONDAY_AT - timedelta(days=2)


def test_upvote_history_of_an_unfeatured_paper_starts_at_its_first_vote(db: Database) -> None:
    _store(db)
    history = catalog.upvote_history(db, catalog.paper(db, "2608.00007"))
    assert (history.baseline, history.total) == (0, 1)
    assert history.starts_at == NOW - timedelta(hours=5)
    quiet = catalog.upvote_history(db, catalog.paper(db, "2609.00002"))
    assert quiet.starts_at is None and quiet.vote_times == ()


def test_featured_per_day_counts_every_day_of_the_week_and_skips_hidden_papers(
    db: Database,
) -> None:
    _store(db)
    counts = catalog.featured_per_day(db, parse_week("2026-W37"))
    assert [c.day for c in counts] == [MONDAY + timedelta(days=n) for n in range(7)]
    assert [c.count for c in counts] == [2, 0, 1, 0, 0, 0, 1]


def test_author_papers_per_month_fold_the_name_and_skip_undated_papers(db: Database) -> None:
    _store(db)
    assert catalog.author_papers_per_month(db, "ADA lovelace") == (
        MonthCount("2026-07", 1),
        MonthCount("2026-09", 3),
    )
