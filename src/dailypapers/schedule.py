"""The one scheduler: harvest -> feature -> index (-> digests) at configured times, in one process
that holds a store-kept lease, so two schedulers (on one machine or several sharing PostgreSQL)
never run a job at the same time. A standby scheduler takes over when the holder stops.

Each job's run is written to the ingest ledger as "job NAME", which `/status` shows. A failing
job is recorded and logged; the next job still runs (a digest goes out even if arXiv is down).
"""

from __future__ import annotations

import logging
import threading
import time as monotonic_time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from dailypapers.digest.send import SendReport
from dailypapers.domain import ImportCounts
from dailypapers.ingest.featuring import FeatureRules, feature_harvested
from dailypapers.ingest.harvest import harvest
from dailypapers.search.catchup import catch_up
from dailypapers.search.embedder import OnnxEmbedder, has_runtime_files
from dailypapers.search.index import SearchIndex
from dailypapers.search.paper_vectors import embed_missing, refresh_vectors
from dailypapers.sources import ArxivSources
from dailypapers.store import Database
from dailypapers.store.ingest_runs import find_last_run, finish_run, start_run
from dailypapers.store.leases import Lease, release, renew, try_acquire

log = logging.getLogger(__name__)

LEASE_NAME = "schedule"
JOB_PREFIX = "job "
# How long a standby waits between attempts to take the lease, at most (seconds).
STANDBY_POLL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class JobResult:
    summary: str
    changed: int = 0  # papers harvested, featured or indexed: what the ledger counts


@dataclass(frozen=True, slots=True)
class Job:
    name: str  # harvest, feature, index, digests
    run: Callable[[], JobResult]


@dataclass(frozen=True, slots=True)
class Timing:
    """When the pipeline runs: at `times` of day in `zone`, or every `every_seconds` (tests)."""

    times: tuple[time, ...] = ()
    zone: tzinfo = UTC
    every_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.times and not self.every_seconds:
            raise ValueError("a schedule needs times of day or an interval")


def next_run_at(after: datetime, times: Sequence[time], zone: tzinfo) -> datetime:
    """The first scheduled moment strictly after `after` (UTC), daylight saving time aware.

    A time with its own tzinfo keeps it (digests at 07:00 Paris, harvests at 22:30 New York).
    """
    return min(m for m in _moments(after, times, zone) if m > after)


def previous_run_at(before: datetime, times: Sequence[time], zone: tzinfo) -> datetime:
    """The newest scheduled moment at or before `before` (UTC)."""
    return max(m for m in _moments(before, times, zone) if m <= before)


def _moments(around: datetime, times: Sequence[time], zone: tzinfo) -> list[datetime]:
    moments = []
    for at in times:
        at_zone = at.tzinfo or zone
        local_day = around.astimezone(at_zone).date()
        for days in range(-2, 3):
            day = local_day + timedelta(days=days)
            local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=at_zone)
            moments.append(local.astimezone(UTC))
    return moments


@dataclass(frozen=True, slots=True)
class ScheduleReport:
    pipelines: int  # pipeline runs this process made
    led: bool  # whether it ever held the lease


class Scheduler:
    """Runs `jobs` in order at each due moment while holding the lease; stands by otherwise."""

    def __init__(
        self,
        db: Database,
        jobs: Sequence[Job],
        timing: Timing,
        *,
        lease_seconds: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_event: Callable[[str], None] = log.info,
    ) -> None:
        self._db = db
        self._jobs = tuple(jobs)
        self._timing = timing
        self._lease_seconds = lease_seconds
        self._clock = clock
        self._say = on_event
        self._lease: Lease | None = None
        self._lock = threading.Lock()
        self._lost = threading.Event()

    def run(
        self,
        stop: threading.Event,
        *,
        max_runs: int | None = None,
        seconds: float | None = None,
        wait_for_lock: bool = True,
    ) -> ScheduleReport:
        """Loop until `stop` is set, `max_runs` pipelines ran or `seconds` passed.

        Without `wait_for_lock`, return at once when another scheduler holds the lock.
        """
        deadline = monotonic_time.monotonic() + seconds if seconds is not None else None
        runs, led = 0, False
        heartbeat: threading.Thread | None = None
        due = self._first_due()
        try:
            while not stop.is_set() and (max_runs is None or runs < max_runs):
                if deadline is not None and monotonic_time.monotonic() >= deadline:
                    break
                if self._lease is None:
                    if not self._take_lease():
                        if not wait_for_lock:
                            self._say("another scheduler holds the lock: not running")
                            break
                        stop.wait(self._standby_wait(deadline))
                        continue
                    led, due = True, self._first_due()
                    heartbeat = threading.Thread(target=self._beat, args=(stop,), daemon=True)
                    heartbeat.start()
                if self._clock() >= due:
                    self.run_pipeline()
                    runs += 1
                    due = self._due_after(self._clock())
                wait = (due - self._clock()).total_seconds()
                if deadline is not None:
                    wait = min(wait, deadline - monotonic_time.monotonic())
                stop.wait(max(min(wait, self._lease_seconds / 3), 0.01))
        finally:
            self._give_up()
            stop.set()  # ends the heartbeat
            if heartbeat is not None:
                heartbeat.join(timeout=self._lease_seconds)
        return ScheduleReport(pipelines=runs, led=led)

    def run_pipeline(self) -> None:
        """Run every job once, in order, recording each; stop early only if the lease is lost."""
        for job in self._jobs:
            if self._lost.is_set():
                self._say("lost the schedule lock: stopping before " + job.name)
                return
            run_id = start_run(self._db, JOB_PREFIX + job.name, now=self._clock())
            try:
                result = job.run()
            except Exception as exc:  # one broken job must not stop the others or the process
                log.exception("scheduled job %s failed", job.name)
                finish_run(
                    self._db,
                    run_id,
                    ImportCounts(),
                    status="failed",
                    now=self._clock(),
                    error=f"{type(exc).__name__}: {exc}",
                )
                self._say(f"{job.name} failed: {exc}")
                continue
            counts = ImportCounts(papers_changed=result.changed)
            finish_run(self._db, run_id, counts, status="ok", now=self._clock())
            self._say(f"{job.name} ok: {result.summary}")

    def _take_lease(self) -> bool:
        lease = try_acquire(
            self._db, LEASE_NAME, now=self._clock(), ttl_seconds=self._lease_seconds
        )
        if lease is None:
            return False
        with self._lock:
            self._lease = lease
        self._lost.clear()
        self._say("holding the schedule lock")
        return True

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self._lease_seconds / 3):
            with self._lock:
                if self._lease is None:
                    return
                renewed = renew(
                    self._db, self._lease, now=self._clock(), ttl_seconds=self._lease_seconds
                )
                self._lease = renewed
            if renewed is None:
                self._lost.set()
                self._say("lost the schedule lock (expired): standing by")
                return

    def _give_up(self) -> None:
        with self._lock:
            if self._lease is not None:
                release(self._db, self._lease)
                self._lease = None

    def _standby_wait(self, deadline: float | None) -> float:
        self._say("another scheduler holds the lock: standing by")
        wait = min(STANDBY_POLL_SECONDS, self._lease_seconds / 3)
        if deadline is not None:
            wait = min(wait, max(deadline - monotonic_time.monotonic(), 0.0))
        return wait

    def _first_due(self) -> datetime:
        """Now if the last scheduled moment passed without a pipeline run (a missed run)."""
        now = self._clock()
        if self._timing.every_seconds:
            return now
        last = find_last_run(self._db, (JOB_PREFIX + self._jobs[0].name,), status=None)
        previous = previous_run_at(now, self._timing.times, self._timing.zone)
        if last is None or last.started_at < previous:
            return now
        return next_run_at(now, self._timing.times, self._timing.zone)

    def _due_after(self, now: datetime) -> datetime:
        if self._timing.every_seconds:
            return now + timedelta(seconds=self._timing.every_seconds)
        return next_run_at(now, self._timing.times, self._timing.zone)


def harvest_job(
    db: Database,
    index: SearchIndex,
    open_arxiv: Callable[[], ArxivSources],
    sets: Sequence[str],
) -> Job:
    """Harvest each set incrementally (all of arXiv when `sets` is empty), then catch the keyword
    index up so query feature rules see the new papers."""

    def run() -> JobResult:
        seen = changed = 0
        with open_arxiv() as arxiv:
            wanted: Sequence[str | None] = sets or [None]
            for set_spec in wanted:
                report = harvest(db, arxiv.oai, set_spec=set_spec)
                seen += report.counts.papers_seen
                changed += report.counts.papers_changed
        catch_up(db, index)
        return JobResult(f"{seen} papers ({changed} new or changed)", changed)

    return Job("harvest", run)


def feature_job(db: Database, index: SearchIndex, rules: FeatureRules) -> Job:
    def run() -> JobResult:
        report = feature_harvested(db, index, rules)
        if report.featured_on is None:
            return JobResult("feature rule none: community submissions only")
        return JobResult(
            f"{report.featured} papers featured on {report.featured_on}", report.featured
        )

    return Job("feature", run)


@dataclass(frozen=True, slots=True)
class VectorPlan:
    """Embedding new papers in the index job: the exported model and the vector index knobs."""

    model_dir: Path
    model_id: str
    dim: int
    threads: int
    batch_size: int
    exact_max: int


def index_job(db: Database, index: SearchIndex, vectors: VectorPlan | None) -> Job:
    """Catch the keyword index up; embed new papers and refresh vectors when the model is there
    (export it once with `dailypapers vectors export`; the scheduler never exports)."""

    def run() -> JobResult:
        report = catch_up(db, index)
        summary = f"generation {report.generation}, {report.written} papers written"
        if vectors is not None and has_runtime_files(vectors.model_dir):
            embedder = OnnxEmbedder(vectors.model_dir, threads=vectors.threads)
            embedded = embed_missing(db, embedder, batch_size=vectors.batch_size)
            refresh_vectors(db, index, vectors.model_id, vectors.dim, exact_max=vectors.exact_max)
            summary += f", {embedded.embedded} papers embedded"
        return JobResult(summary, report.written)

    return Job("index", run)


def digests_job(
    send: Callable[[str, date], SendReport],
    *,
    hour: int,
    zone: tzinfo,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Job:
    """Send today's daily digests once `hour` has come (the ledger makes reruns no-ops), and on
    Mondays last week's weekly digests."""

    def run() -> JobResult:
        local = clock().astimezone(zone)
        if local.hour < hour:
            return JobResult(f"digests go out at {hour:02d}:00; not yet")
        reports = [send("daily", local.date())]
        if local.weekday() == 0:
            reports.append(send("weekly", local.date() - timedelta(days=7)))
        sent = sum(r.sent for r in reports)
        summary = ", ".join(f"{r.period}: {r.sent} sent, {r.failed} failed" for r in reports)
        return JobResult(summary, sent)

    return Job("digests", run)


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    """What `dailypapers schedule` runs and when: plain values from the settings."""

    times: tuple[time, ...]
    zone: str
    harvest_sets: tuple[str, ...]
    lease_seconds: float
    digest_hour: int
    digest_zone: str

    def timing(self, every_seconds: float | None = None) -> Timing:
        if every_seconds:
            return Timing(every_seconds=every_seconds)
        digest_at = time(self.digest_hour, 0, tzinfo=ZoneInfo(self.digest_zone))
        return Timing(times=(*self.times, digest_at), zone=ZoneInfo(self.zone))
