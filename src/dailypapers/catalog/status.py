"""The freshness status behind /status and `dailypapers status`: the last harvest against arXiv's
announce calendar, the search index, the scheduled jobs and the errors of failed runs.

Reads only; it never repairs or runs anything. The digests job is read from the scheduler's job
ledger (see `schedule.py`), the digest deliveries from the store's ledger summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dailypapers.domain.calendar import HarvestLag, compute_lag
from dailypapers.search.index import IndexUnavailable, SearchIndex
from dailypapers.store import Database
from dailypapers.store.changes import max_change_seq
from dailypapers.store.deliveries import summarise
from dailypapers.store.harvests import HarvestCursor, list_cursors
from dailypapers.store.ingest_runs import IngestRun, find_last_run, list_failed_runs

# ingest_runs.source prefixes: harvests (OAI-PMH, RSS) and the scheduler's jobs.
HARVEST_SOURCES = ("oai-pmh ", "rss ")
JOB_PREFIX = "job "
FAILED_RUNS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class IndexStatus:
    generation: int | None  # None: no index built yet
    documents: int
    built_at: datetime | None
    behind: int  # store changes (change_seq values) the index has not caught up with
    error: str | None = None  # why the current generation cannot be read


@dataclass(frozen=True, slots=True)
class StatusReport:
    now: datetime
    lag: HarvestLag
    last_harvest: IngestRun | None
    cursors: tuple[HarvestCursor, ...]
    index: IndexStatus
    jobs: dict[str, IngestRun]  # job name -> its newest run (feature, index, digests)
    digest_deliveries: dict[str, int] | None  # delivery status -> count, where a ledger exists
    failures: tuple[IngestRun, ...]  # newest first

    @property
    def healthy(self) -> bool:
        return self.lag.state != "late" and self.index.error is None


def compute_status(
    db: Database,
    index: SearchIndex,
    *,
    now: datetime | None = None,
    grace_hours: float = 6.0,
    jobs: tuple[str, ...] = ("feature", "index", "digests"),
) -> StatusReport:
    now = now or datetime.now(UTC)
    last_harvest = find_last_run(db, HARVEST_SOURCES)
    last_at = last_harvest.finished_at if last_harvest else None
    newest_jobs = {
        name: run
        for name in jobs
        if (run := find_last_run(db, (f"{JOB_PREFIX}{name}",), status=None))
    }
    return StatusReport(
        now=now,
        lag=compute_lag(now, last_at, grace_hours=grace_hours),
        last_harvest=last_harvest,
        cursors=tuple(list_cursors(db)),
        index=index_status(db, index),
        jobs=newest_jobs,
        digest_deliveries=latest_digest_deliveries(db),
        failures=tuple(list_failed_runs(db, limit=FAILED_RUNS_SHOWN)),
    )


def latest_digest_deliveries(db: Database) -> dict[str, int] | None:
    """The newest digest period's deliveries by status (None: no digest planned yet)."""
    with db.read() as conn:
        summary = summarise(conn)
    newest = summary.newest_period()
    if newest is None:
        return None
    return {f"{status} ({newest})": count for status, count in summary.periods[newest].items()}


def index_status(db: Database, index: SearchIndex) -> IndexStatus:
    with db.read() as conn:
        newest = max_change_seq(conn)
    generation = index.current_generation()
    if generation is None:
        return IndexStatus(None, 0, None, newest)
    try:
        meta = index.read_meta(generation)
    except IndexUnavailable as exc:
        return IndexStatus(generation, 0, None, newest, error=str(exc))
    return IndexStatus(
        generation=generation,
        documents=meta.docs,
        built_at=datetime.fromtimestamp(meta.created_at, UTC),
        behind=max(newest - meta.high_water, 0),
    )


def describe_status(report: StatusReport) -> dict[str, Any]:
    """The report as plain JSON-ready values, for `dailypapers status` (text or --json)."""
    lag, index, harvest = report.lag, report.index, report.last_harvest
    facts: dict[str, Any] = {
        "freshness": lag.message,
        "state": lag.state,
        "last harvest": _when(harvest.finished_at) if harvest else "never",
        "last harvest records": harvest.papers_seen if harvest else 0,
        "latest announcement": _when(lag.expected_announcement_at),
        "listing day": lag.expected_mailing_day.isoformat(),
        "next announcement": _when(lag.next_announcement_at),
        "index": _describe_index(index),
    }
    for name, run in report.jobs.items():
        facts[f"last {name} run"] = f"{_when(run.finished_at or run.started_at)} {run.status}"
    if report.digest_deliveries is not None:
        facts["digest deliveries"] = report.digest_deliveries
    facts["failed runs"] = [
        f"{_when(run.started_at)} {run.source}: {run.error or 'no error recorded'}"
        for run in report.failures
    ]
    return facts


def _describe_index(index: IndexStatus) -> str:
    if index.error:
        return f"unreadable: {index.error}"
    if index.generation is None:
        return "not built yet"
    behind = f"{index.behind} changes behind" if index.behind else "caught up"
    return f"generation {index.generation}, {index.documents} papers, {behind}"


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at else "never"
