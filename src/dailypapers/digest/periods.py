"""Digest periods as ledger keys: "daily:2026-11-04" or "weekly:2026-W45", read back to a first day
and an end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from dailypapers.domain.periods import week_period
from dailypapers.errors import InvalidRequest

FREQUENCIES = ("daily", "weekly")


def period_key(frequency: str, day: date) -> str:
    if frequency == "daily":
        return f"daily:{day.isoformat()}"
    if frequency == "weekly":
        return f"weekly:{week_period(day).label}"
    raise InvalidRequest("the period is daily or weekly")


def period_day(period: str) -> tuple[str, date]:
    """(frequency, first day) of a period key such as daily:2026-11-04 or weekly:2026-W45."""
    frequency, _, label = period.partition(":")
    try:
        if frequency == "daily":
            return frequency, date.fromisoformat(label)
        if frequency == "weekly":
            year, week = label.split("-W")
            return frequency, date.fromisocalendar(int(year), int(week), 1)
    except ValueError as exc:
        raise InvalidRequest("this link names no digest period") from exc
    raise InvalidRequest("this link names no digest period")


def period_end(frequency: str, day: date) -> datetime:
    last = day if frequency == "daily" else week_period(day).end
    return datetime.combine(last + timedelta(days=1), clock_time(), UTC)
