"""Featured periods: a day, an ISO week or a month, parsed from the text users and clients send.

Pure values and parsers (stdlib only). A malformed or out-of-range period raises InvalidRequest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dailypapers.errors import InvalidRequest

PeriodKind = Literal["day", "week", "month"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_WEEK = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{2})$")
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
# arXiv starts in 1991, so earlier years are typos; 9999 would overflow computing the next day.
_FIRST_YEAR = 1991
_LAST_YEAR = 9998


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of featured days, with its own label and neighbours of the same kind."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    def containing(self, day: date) -> Period:
        """The period of the same kind that holds `day`."""
        return period_of(self.kind, day)


def day_period(day: date) -> Period:
    return Period("day", day, day)


def week_period(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month_period(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, following - timedelta(days=1))


def parse_day(text: str) -> date:
    """YYYY-MM-DD, a real calendar day."""
    if not _DATE.match(text):
        raise InvalidRequest(f"date must look like YYYY-MM-DD, not {text[:40]!r}")
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRequest(f"{text!r} is not a calendar date") from exc
    _check_year(value.year)
    return value


def parse_week(text: str) -> Period:
    """YYYY-Www, an ISO 8601 week (Monday to Sunday); W53 only in years that have one."""
    match = _WEEK.match(text)
    if not match:
        raise InvalidRequest(f"week must look like YYYY-Www, e.g. 2026-W09, not {text[:40]!r}")
    year, week = int(match["year"]), int(match["week"])
    _check_year(year)
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidRequest(f"{year} has no ISO week {week}") from exc
    return week_period(monday)


def parse_month(text: str) -> Period:
    """YYYY-MM."""
    match = _MONTH.match(text)
    if not match:
        raise InvalidRequest(f"month must look like YYYY-MM, not {text[:40]!r}")
    year, month = int(match["year"]), int(match["month"])
    _check_year(year)
    if not 1 <= month <= 12:
        raise InvalidRequest(f"month {month} is not between 01 and 12")
    return month_period(date(year, month, 1))


def parse_period(
    *, day: str | None = None, week: str | None = None, month: str | None = None
) -> Period | None:
    """At most one of day, week and month; None when none is given."""
    given = [name for name, value in (("date", day), ("week", week), ("month", month)) if value]
    if len(given) > 1:
        raise InvalidRequest(f"give only one of date, week and month, not {' and '.join(given)}")
    if day:
        return day_period(parse_day(day))
    if week:
        return parse_week(week)
    if month:
        return parse_month(month)
    return None


def _check_year(year: int) -> None:
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        raise InvalidRequest(f"year {year} is out of range")


def period_of(kind: PeriodKind, day: date) -> Period:
    """The day, week or month that holds `day`."""
    return {"day": day_period, "week": week_period, "month": month_period}[kind](day)
