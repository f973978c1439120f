"""arXiv's announce calendar and harvest lag: pure functions of the calendar and `now`.

arXiv announces Sunday to Thursday at 20:00 US-Eastern, never on Friday, Saturday or its holidays
(kept as data in `arxiv_holidays.txt`). Each announcement is dated the next Eastern day, its
mailing day. No I/O here beyond reading the packaged holiday list once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

ARXIV_TZ = ZoneInfo("America/New_York")
ANNOUNCE_TIME = time(20, 0)
# Python weekdays: Monday is 0. Announcements happen on the evenings of Sunday to Thursday.
ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})
# How long after an announcement a harvest may take before the site calls itself late: OAI-PMH
# refreshes its metadata some hours after the announcement, RSS around midnight Eastern.
DEFAULT_GRACE_HOURS = 6.0
# Longest run of days without an announcement (a long holiday weekend plus slack): bounds searches.
_MAX_QUIET_DAYS = 14

FreshnessState = Literal["never", "on_time", "waiting", "late", "no_announcement_today"]


@lru_cache(maxsize=1)
def arxiv_holidays() -> dict[date, str]:
    """The packaged holidays: Eastern evenings with no announcement, mapped to their names."""
    text = resources.files("dailypapers.domain").joinpath("arxiv_holidays.txt").read_text("utf-8")
    return parse_holidays(text)


def parse_holidays(text: str) -> dict[date, str]:
    """Parse `YYYY-MM-DD  name` lines; `#` starts a comment."""
    holidays: dict[date, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        day, _, name = line.partition(" ")
        holidays[date.fromisoformat(day)] = name.strip() or "arXiv holiday"
    return holidays


def quiet_reason(evening: date, holidays: dict[date, str] | None = None) -> str | None:
    """Why arXiv makes no announcement on this Eastern evening, or None when it announces."""
    holidays = arxiv_holidays() if holidays is None else holidays
    if evening.weekday() not in ANNOUNCE_WEEKDAYS:
        return evening.strftime("%A")
    return holidays.get(evening)


def is_announce_day(evening: date, holidays: dict[date, str] | None = None) -> bool:
    return quiet_reason(evening, holidays) is None


def is_mailing_day(day: date, holidays: dict[date, str] | None = None) -> bool:
    """Whether an arXiv listing is dated `day` (an Eastern date): the evening before announced."""
    return is_announce_day(day - timedelta(days=1), holidays)


def announcement_at(evening: date) -> datetime:
    """The UTC instant of the 20:00 Eastern announcement on that evening (daylight time aware)."""
    return datetime.combine(evening, ANNOUNCE_TIME, tzinfo=ARXIV_TZ).astimezone(UTC)


def mailing_day(announced_at: datetime) -> date:
    """The Eastern date an announcement's listing carries: the day after its evening."""
    return announced_at.astimezone(ARXIV_TZ).date() + timedelta(days=1)


def eastern_date(now: datetime) -> date:
    return now.astimezone(ARXIV_TZ).date()


def latest_announcement(now: datetime, holidays: dict[date, str] | None = None) -> datetime:
    """The newest announcement at or before `now` (tz-aware)."""
    evening = eastern_date(now)
    for _ in range(_MAX_QUIET_DAYS + 1):
        if is_announce_day(evening, holidays) and announcement_at(evening) <= now:
            return announcement_at(evening)
        evening -= timedelta(days=1)
    raise ValueError(f"no arXiv announcement in the {_MAX_QUIET_DAYS} days before {now}")


def next_announcement(now: datetime, holidays: dict[date, str] | None = None) -> datetime:
    """The first announcement after `now` (tz-aware)."""
    evening = eastern_date(now)
    for _ in range(_MAX_QUIET_DAYS + 1):
        if is_announce_day(evening, holidays) and announcement_at(evening) > now:
            return announcement_at(evening)
        evening += timedelta(days=1)
    raise ValueError(f"no arXiv announcement in the {_MAX_QUIET_DAYS} days after {now}")


@dataclass(frozen=True, slots=True)
class HarvestLag:
    """Where the last successful harvest stands against arXiv's schedule at `now`."""

    state: FreshnessState
    now: datetime
    expected_announcement_at: datetime  # the newest announcement a harvest should hold by now
    expected_mailing_day: date
    next_announcement_at: datetime
    last_harvest_at: datetime | None
    late_hours: float  # hours since the missing announcement; 0 unless late
    quiet_reason: str | None  # why there is no announcement today (Friday, a holiday's name)

    @property
    def message(self) -> str:
        if self.state == "late":
            return f"The harvest is late by {_hours(self.late_hours)}."
        if self.state == "never":
            return "Nothing has been harvested from arXiv yet."
        if self.state == "no_announcement_today":
            return f"No arXiv announcement today ({self.quiet_reason})."
        if self.state == "waiting":
            return "arXiv announced less than a few hours ago; the harvest is not due yet."
        return "The harvest is up to date with arXiv's latest announcement."


def compute_lag(
    now: datetime,
    last_harvest_at: datetime | None,
    *,
    grace_hours: float = DEFAULT_GRACE_HOURS,
    holidays: dict[date, str] | None = None,
) -> HarvestLag:
    """Compare the last successful harvest with the announcements due by `now`.

    Late means the newest announcement is older than `grace_hours` and no harvest finished after
    it; before that it is waiting. A covered harvest on a Friday, Saturday or holiday (Eastern
    dates) says so: no announcement today.
    """
    expected = latest_announcement(now, holidays)
    quiet = quiet_reason(eastern_date(now), holidays)
    covered = last_harvest_at is not None and last_harvest_at >= expected
    due = now >= expected + timedelta(hours=grace_hours)
    if last_harvest_at is None:
        state: FreshnessState = "never"
    elif not covered:
        state = "late" if due else "waiting"
    elif quiet is not None:
        state = "no_announcement_today"
    else:
        state = "on_time"
    return HarvestLag(
        state=state,
        now=now,
        expected_announcement_at=expected,
        expected_mailing_day=mailing_day(expected),
        next_announcement_at=next_announcement(now, holidays),
        last_harvest_at=last_harvest_at,
        late_hours=(now - expected).total_seconds() / 3600 if state == "late" else 0.0,
        quiet_reason=quiet,
    )


def _hours(hours: float) -> str:
    whole = round(hours)
    return "1 hour" if whole == 1 else f"{whole} hours"
