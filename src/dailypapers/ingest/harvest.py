"""Harvest arXiv over OAI-PMH into the store: page by page, resumable, idempotent.

Each page's upserts and the resumption token that follows it commit in one transaction, so a
harvest killed at any moment resumes at the first page it did not store. With no `from_date`, a
harvest starts at the last successful datestamp of its (set, metadata prefix) cursor.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from dailypapers.domain import ImportCounts
from dailypapers.errors import DailyPapersError, InvalidRequest, SourceUnavailable
from dailypapers.sources.oai import BadResumptionToken, OaiPage, OaiPmhClient, check_metadata_prefix
from dailypapers.store import Database
from dailypapers.store.harvests import (
    HarvestCursor,
    fail_cursor,
    find_cursor,
    finish_cursor,
    resume_cursor,
    save_page,
    start_cursor,
)
from dailypapers.store.ingest_runs import finish_run, start_run
from dailypapers.store.papers import upsert_papers

log = logging.getLogger(__name__)

HarvestProgress = Callable[[int, ImportCounts], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HarvestReport:
    set_spec: str | None
    metadata_prefix: str
    from_date: date | None
    until: date | None
    resumed: bool
    pages: int
    counts: ImportCounts  # lines: records received; rejects: records that could not be mapped
    last_datestamp: date
    seconds: float


@dataclass(frozen=True, slots=True)
class _Plan:
    from_date: date | None
    until: date | None
    token: str | None
    started_on: date


def harvest(
    db: Database,
    oai: OaiPmhClient,
    *,
    set_spec: str | None = None,
    from_date: date | None = None,
    until: date | None = None,
    metadata_prefix: str = "arXiv",
    clock: Callable[[], datetime] = utc_now,
    progress: HarvestProgress | None = None,
) -> HarvestReport:
    """Harvest one set (None: all of arXiv) into the store; resume an interrupted run of it.

    An interrupted run with the same dates (or none given) resumes from its saved token.
    Raises SourceUnavailable (arXiv down, malformed page, refused token) after storing every
    page before the failure, and InvalidRequest for a bad prefix, set or date range.
    """
    check_metadata_prefix(metadata_prefix)
    if from_date and until and from_date > until:
        raise InvalidRequest(f"--from {from_date} is after --until {until}")
    key = set_spec or ""
    started = time.monotonic()
    plan = _plan(
        db, find_cursor(db, key, metadata_prefix), key, metadata_prefix, from_date, until, clock()
    )
    label = (
        f"oai-pmh {metadata_prefix} set={key or '*'} {plan.from_date or '*'}..{plan.until or '*'}"
    )
    run_id = start_run(db, label, now=clock())
    tally = _Tally()
    try:
        _page_through(db, oai, plan, metadata_prefix, set_spec, tally, clock, progress)
    except DailyPapersError as exc:
        refused = isinstance(exc, BadResumptionToken)
        fail_cursor(db, key, metadata_prefix, error=str(exc), now=clock(), drop_token=refused)
        finish_run(db, run_id, tally.counts, status="failed", now=clock(), error=str(exc))
        raise
    counts, pages = tally.counts, tally.pages
    # Every datestamp before the day this list was started is now stored; the next incremental
    # harvest starts on that day again (inclusive), as records may still change on it.
    last = min(plan.until, plan.started_on) if plan.until else plan.started_on
    finish_cursor(db, key, metadata_prefix, last_datestamp=last, now=clock())
    finish_run(db, run_id, counts, status="ok", now=clock())
    return HarvestReport(
        set_spec=set_spec,
        metadata_prefix=metadata_prefix,
        from_date=plan.from_date,
        until=plan.until,
        resumed=plan.token is not None,
        pages=pages,
        counts=counts,
        last_datestamp=last,
        seconds=time.monotonic() - started,
    )


@dataclass(slots=True)
class _Tally:
    pages: int = 0
    counts: ImportCounts = field(default_factory=ImportCounts)


def _page_through(
    db: Database,
    oai: OaiPmhClient,
    plan: _Plan,
    metadata_prefix: str,
    set_spec: str | None,
    tally: _Tally,
    clock: Callable[[], datetime],
    progress: HarvestProgress | None,
) -> None:
    """Fetch and store pages until the list ends; `tally` holds what was stored if one fails."""
    token = plan.token
    while True:
        if token:
            page = oai.resume(token)
        else:
            page = oai.list_records(
                metadata_prefix, set_spec=set_spec, from_date=plan.from_date, until=plan.until
            )
        tally.counts += _store_page(db, page, set_spec or "", metadata_prefix, clock())
        tally.pages += 1
        if progress:
            progress(tally.pages, tally.counts)
        if page.resumption_token and page.resumption_token == token:
            raise SourceUnavailable(f"OAI-PMH repeated the resumption token {token!r}")
        token = page.resumption_token
        if not token:
            return


def _plan(
    db: Database,
    cursor: HarvestCursor | None,
    key: str,
    metadata_prefix: str,
    from_date: date | None,
    until: date | None,
    now: datetime,
) -> _Plan:
    unfinished = (
        cursor is not None
        and cursor.status != "ok"
        and from_date in (None, cursor.from_date)
        and until in (None, cursor.until_date)
    )
    if unfinished and cursor is not None and cursor.resumption_token:
        log.info("resuming the %s harvest of set %r at its saved token", metadata_prefix, key)
        resume_cursor(db, key, metadata_prefix, now=now)
        return _Plan(
            cursor.from_date, cursor.until_date, cursor.resumption_token, cursor.started_at.date()
        )
    if unfinished and cursor is not None:
        # Stopped before its first page, or its token was refused: run the same list again.
        from_date, until = cursor.from_date, cursor.until_date
    elif from_date is None and cursor is not None:
        from_date = cursor.last_datestamp
    start_cursor(db, key, metadata_prefix, from_date=from_date, until_date=until, now=now)
    return _Plan(from_date, until, None, now.astimezone(UTC).date())


def _store_page(
    db: Database, page: OaiPage, key: str, metadata_prefix: str, now: datetime
) -> ImportCounts:
    with db.write() as conn:
        outcome = upsert_papers(conn, page.records, now=now)
        save_page(
            conn,
            key,
            metadata_prefix,
            resumption_token=page.resumption_token,
            records=len(page.records),
            now=now,
        )
    return ImportCounts(
        lines=len(page.records) + len(page.rejected) + page.deleted,
        papers_seen=len(page.records),
        papers_changed=outcome.papers_changed,
        rejects=len(page.rejected),
    )
