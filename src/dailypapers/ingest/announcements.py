"""Store the day's arXiv announcements read from RSS: one request, one transaction, idempotent.

RSS names each paper's version but not its submission dates, so a paper first seen here has no
published date until an OAI-PMH harvest fills it (the merge rule fills gaps, never erases).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from dailypapers.domain import ImportCounts
from dailypapers.errors import DailyPapersError
from dailypapers.sources.rss import ArxivRssClient
from dailypapers.store import Database
from dailypapers.store.ingest_runs import finish_run, start_run
from dailypapers.store.papers import upsert_papers


@dataclass(frozen=True, slots=True)
class AnnouncementReport:
    categories: tuple[str, ...]
    announced_on: date | None
    by_type: dict[str, int]  # announce_type -> papers: new, cross, replace, replace-cross
    counts: ImportCounts


def ingest_announcements(
    db: Database,
    rss: ArxivRssClient,
    categories: Sequence[str],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> AnnouncementReport:
    """Upsert today's announcements in `categories` (e.g. ["cs.LG", "cs.CL"]) into the store."""
    run_id = start_run(db, f"rss {'+'.join(categories)}", now=clock())
    try:
        announcements = rss.fetch_announcements(categories)
    except DailyPapersError as exc:
        finish_run(db, run_id, ImportCounts(), status="failed", now=clock(), error=str(exc))
        raise
    with db.write() as conn:
        outcome = upsert_papers(conn, [a.record for a in announcements], now=clock())
    counts = ImportCounts(
        lines=len(announcements),
        papers_seen=len(announcements),
        papers_changed=outcome.papers_changed,
    )
    finish_run(db, run_id, counts, status="ok", now=clock())
    days = [a.announced_on for a in announcements if a.announced_on]
    return AnnouncementReport(
        categories=tuple(categories),
        announced_on=max(days, default=None),
        by_type=dict(Counter(a.announce_type for a in announcements)),
        counts=counts,
    )
