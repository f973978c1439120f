"""Email digests: send a period, preview one, show the ledger."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import click

from dailypapers.cli.common import State, friendly_errors, open_services
from dailypapers.digest.render import render_digest
from dailypapers.digest.send import get_subscriber, next_digest
from dailypapers.services import require_current_schema
from dailypapers.store.deliveries import summarise


@click.group()
def digest() -> None:
    """Email digests: send a period, preview one, show the ledger."""


def _digest_day(raw: datetime | None, time_zone: str) -> date:
    if raw is not None:
        return raw.date()
    return datetime.now(ZoneInfo(time_zone)).date()


@digest.command("send")
@click.option("--period", "frequency", type=click.Choice(["daily", "weekly"]), required=True)
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="A day of the period (default today)."
)
@click.pass_obj
def digest_send(state: State, frequency: str, day: datetime | None) -> None:
    """Send every confirmed subscriber their digest for the period, exactly once.

    Safe to rerun after a crash and to run on several machines at once (docs/digests.md).
    """
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        report = services.digest_sender().run(
            frequency, _digest_day(day, services.schedule.digest_zone)
        )
    click.echo(
        f"{report.period}: {report.sent} sent, {report.quiet} quiet, {report.retried} retried, "
        f"{report.bounced} bounced, {report.failed} failed, {report.skipped} skipped "
        f"in {report.seconds:.1f} s"
    )


@digest.command("preview")
@click.argument("email")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="A day of the period.")
@click.pass_obj
def digest_preview(state: State, email: str, day: datetime | None) -> None:
    """Print the plain-text part of EMAIL's next digest; sends and records nothing."""
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        secret = services.secret
        subscriber = get_subscriber(services.db, email)
        when = _digest_day(day, services.schedule.digest_zone)
        period, items = next_digest(
            services.db,
            services.digest,
            secret,
            subscriber,
            when,
            datetime.now(UTC),
            index=services.search_index,
            model_id=services.vectors.model_id,
        )
        mail = render_digest(secret, services.digest, subscriber, period, items)
    click.echo(f"Subject: {mail.subject}\n\n{mail.text}")


@digest.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def digest_status(state: State, as_json: bool) -> None:
    """Show subscribers, and per period what was sent, failed and is pending."""
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        with services.db.read() as conn:
            summary = summarise(conn)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(summary), indent=2))
        return
    click.echo("subscribers: " + _pairs(summary.subscribers))
    for period, statuses in summary.periods.items():
        click.echo(f"{period}: {_pairs(statuses)}")
    for period, sid, status, error in summary.recent_errors:
        click.echo(f"  {period} #{sid} {status}: {error}")


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
