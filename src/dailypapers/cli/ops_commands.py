"""Watching a running hub: stats, status and the scheduler."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import click

from dailypapers.catalog.status import compute_status, describe_status
from dailypapers.cli.common import State, friendly_errors, human_size, open_services
from dailypapers.schedule import Scheduler
from dailypapers.services import (
    require_current_schema,
    scheduled_jobs,
)
from dailypapers.store.stats import compute_stats


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def stats(state: State, as_json: bool) -> None:
    """Show counts, date ranges and the database size."""
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        result = compute_stats(services.db)
    facts: dict[str, Any] = {
        "backend": result.backend,
        "papers": result.papers,
        "authors": result.authors,
        "featured papers": result.featured,
        "featured days": result.featured_days,
        "published": _range(result.first_published, result.last_published),
        "featured": _range(result.first_featured, result.last_featured),
        "last import": result.last_ingest_at.isoformat() if result.last_ingest_at else "never",
        "database size": human_size(result.database_bytes),
    }
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        click.echo(
            f"{key:<{width}}  {value:,}" if isinstance(value, int) else f"{key:<{width}}  {value}"
        )


@click.command()
@click.option(
    "--every",
    "every_seconds",
    type=click.FloatRange(min=0.1),
    help="Run the pipeline every SECONDS instead of at schedule_times (tests, trials).",
)
@click.option("--for", "for_seconds", type=click.FloatRange(min=0), help="Stop after SECONDS.")
@click.option(
    "--once", is_flag=True, help="Run the pipeline once now if the lock is free, then exit."
)
@click.pass_obj
def schedule(
    state: State, every_seconds: float | None, for_seconds: float | None, once: bool
) -> None:
    """Run harvest, feature, index and digests at the configured times, until stopped.

    Holds a lock in the store, so a second scheduler (here or on another machine sharing
    PostgreSQL) stands by and takes over when this one stops. Each job's outcome is in `status`.
    """
    state.as_service()
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        runner = Scheduler(
            services.db,
            scheduled_jobs(services),
            services.schedule.timing(every_seconds or (1.0 if once else None)),
            lease_seconds=services.schedule.lease_seconds,
            on_event=lambda text: click.echo(f"{datetime.now(UTC):%H:%M:%S} {text}"),
        )
        report = runner.run(
            stop, max_runs=1 if once else None, seconds=for_seconds, wait_for_lock=not once
        )
    click.echo(f"{report.pipelines} pipeline run{'' if report.pipelines == 1 else 's'}")


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def status_command(state: State, as_json: bool) -> None:
    """Show freshness: the last harvest against arXiv's calendar, the index, jobs and failures.

    Exits with status 1 when the harvest is late or the index cannot be read (for monitoring).
    """
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        report = compute_status(
            services.db, services.search_index, grace_hours=services.harvest.grace_hours
        )
    facts = describe_status(report)
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        width = max(len(k) for k in facts)
        for key, value in facts.items():
            if isinstance(value, list):
                value = "none" if not value else "\n" + "\n".join(f"  {v}" for v in value)
            click.echo(f"{key:<{width}}  {value}")
    if not report.healthy:
        sys.exit(1)


def _range(first: object, last: object) -> str:
    return f"{first} to {last}" if first else "none"
