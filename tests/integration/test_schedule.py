"""`dailypapers schedule` on both backends: the store-kept lock, and an accelerated window of real
scheduler processes against the replay server: harvest -> featured list -> index -> digest mail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dailypapers.catalog import featured_period
from dailypapers.catalog.status import compute_status, index_status
from dailypapers.domain.calendar import latest_announcement, mailing_day
from dailypapers.domain.periods import day_period
from dailypapers.errors import SourceUnavailable
from dailypapers.schedule import Job, JobResult, Scheduler, Timing
from dailypapers.search.index import SearchIndex
from dailypapers.store import Database
from dailypapers.store import subscribers as store_subscribers
from dailypapers.store.ingest_runs import list_failed_runs
from dailypapers.store.leases import release, renew, try_acquire
from tests.integration.replay_server import OaiList, ReplayServer, recent_oai_list
from tests.integration.smtp_sink import SmtpSink

NOW = datetime(2026, 9, 24, 14, 0, tzinfo=UTC)


def test_one_holder_at_a_time_renewals_and_takeover_after_expiry(db: Database) -> None:
    first = try_acquire(db, "schedule", now=NOW, ttl_seconds=60)
    assert first is not None
    assert try_acquire(db, "schedule", now=NOW + timedelta(seconds=30), ttl_seconds=60) is None
    renewed = renew(db, first, now=NOW + timedelta(seconds=40), ttl_seconds=60)
    assert renewed is not None
    assert try_acquire(db, "schedule", now=NOW + timedelta(seconds=90), ttl_seconds=60) is None
    later = NOW + timedelta(seconds=101)
    second = try_acquire(db, "schedule", now=later, ttl_seconds=60)
    assert second is not None
    # The first holder's renewal and release no longer touch the second holder's lease.
    assert renew(db, renewed, now=later, ttl_seconds=60) is None
    assert not release(db, renewed)
    assert release(db, second)
    assert try_acquire(db, "schedule", now=later, ttl_seconds=60) is not None


@pytest.fixture
def recent_list() -> OaiList:
    return recent_oai_list([3, 3, 3])


@pytest.fixture
def server(recent_list: OaiList) -> Iterator[ReplayServer]:
    with ReplayServer(recent_list.respond) as replay:
        yield replay


def _env(db_url: str, data_dir: Path, server: ReplayServer, sink: SmtpSink) -> dict[str, str]:
    return {
        **os.environ,
        "DAILYPAPERS_DATABASE_URL": db_url,
        "DAILYPAPERS_DATA_DIR": str(data_dir),
        "DAILYPAPERS_SECRET_KEY": "schedule-test-secret-key-0123456789abcdef",
        "DAILYPAPERS_ARXIV_OAI_URL": f"{server.url}/oai",
        "DAILYPAPERS_ARXIV_MIN_INTERVAL_SECONDS": "0.01",
        "DAILYPAPERS_FEATURE_RULE": "categories",
        "DAILYPAPERS_FEATURE_CATEGORIES": json.dumps(["physics.plasm-ph"]),
        "DAILYPAPERS_SCHEDULE_LEASE_SECONDS": "6",
        "DAILYPAPERS_SMTP_URL": sink.url,
        "DAILYPAPERS_DIGEST_HOUR": "0",
        "DAILYPAPERS_DIGEST_QUIET_MODE": "note",
        "DAILYPAPERS_LOG_LEVEL": "WARNING",
    }


def _schedule(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dailypapers", "schedule", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 30) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen += line
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} never came; the scheduler said:\n{seen}")


@pytest.mark.slow
def test_a_scheduler_window_harvests_features_indexes_and_mails_while_a_second_stands_by(
    db: Database, db_url: str, tmp_path: Path, server: ReplayServer
) -> None:
    with SmtpSink() as sink:
        with db.write() as conn:
            sub = store_subscribers.add_pending(
                conn, "reader@example.org", "daily", user_id=None, now=datetime.now(UTC)
            )
            store_subscribers.confirm(conn, sub.id, ip="192.0.2.1", now=datetime.now(UTC))
        env = _env(db_url, tmp_path / "data", server, sink)
        first = _schedule(env, "--every", "2", "--for", "12")
        said = _wait_for_line(first, "holding the schedule lock")
        second = _schedule(env, "--for", "4")
        second_out, _ = second.communicate(timeout=60)
        said += _wait_for_line(first, "digests ok")
        first_out, _ = first.communicate(timeout=60)
        said += first_out
        mail = sink.wait_for("reader@example.org", timeout=10)
    assert second.returncode == 0, second_out
    assert "another scheduler holds the lock: standing by" in second_out
    assert "0 pipeline runs" in second_out
    assert first.returncode == 0, said
    assert "harvest ok: 9 papers" in said
    assert re.search(r"feature ok: 3 papers featured on", said), said
    day = mailing_day(latest_announcement(datetime.now(UTC)))
    featured = featured_period(db, day_period(day)).papers
    assert len(featured) == 3
    status = index_status(db, SearchIndex(tmp_path / "data" / "index"))
    assert status.documents == 9
    assert status.behind == 0
    assert mail.message["Subject"]
    assert list_failed_runs(db) == []
    report = compute_status(db, SearchIndex(tmp_path / "data" / "index"))
    assert set(report.jobs) == {"feature", "index", "digests"}
    assert report.digest_deliveries is not None
    assert any(label.startswith("sent (daily:") for label in report.digest_deliveries)


def test_a_failing_job_is_recorded_and_the_next_job_still_runs(db: Database) -> None:
    ran: list[str] = []

    def broken() -> JobResult:
        raise SourceUnavailable("arXiv answered 503 five times")

    def fine() -> JobResult:
        ran.append("index")
        return JobResult("caught up", 2)

    scheduler = Scheduler(
        db, [Job("harvest", broken), Job("index", fine)], Timing(every_seconds=60), lease_seconds=5
    )
    report = scheduler.run(threading.Event(), max_runs=1)
    assert report.pipelines == 1
    assert ran == ["index"]
    [failure] = list_failed_runs(db)
    assert failure.source == "job harvest"
    assert failure.error == "SourceUnavailable: arXiv answered 503 five times"
    assert try_acquire(db, "schedule", now=datetime.now(UTC), ttl_seconds=5) is not None
