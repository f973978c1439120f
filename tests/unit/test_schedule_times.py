"""When the scheduler runs: times of day in their zones, across daylight saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dailypapers.schedule import Timing, next_run_at, previous_run_at
from tests.factories import schedule_plan

NEW_YORK = ZoneInfo("America/New_York")


def test_the_next_run_is_the_first_time_of_day_after_now_in_the_zone() -> None:
    times = (time(21, 30), time(1, 0))
    now = datetime(2026, 9, 24, 2, 0, tzinfo=UTC)  # 22:00 Eastern (daylight time)
    assert next_run_at(now, times, NEW_YORK) == datetime(2026, 9, 24, 5, 0, tzinfo=UTC)
    assert previous_run_at(now, times, NEW_YORK) == datetime(2026, 9, 24, 1, 30, tzinfo=UTC)


def test_times_follow_the_zone_across_the_end_of_daylight_saving_time() -> None:
    saturday = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    sunday_run = next_run_at(datetime(2026, 11, 1, 2, 0, tzinfo=UTC), [time(21, 30)], NEW_YORK)
    assert next_run_at(saturday, [time(21, 30)], NEW_YORK) == datetime(
        2026, 11, 1, 1, 30, tzinfo=UTC
    )
    assert sunday_run == datetime(2026, 11, 2, 2, 30, tzinfo=UTC)  # 21:30 EST is 02:30 UTC


def test_a_time_with_its_own_zone_keeps_it() -> None:
    digests = time(7, 0, tzinfo=ZoneInfo("Europe/Paris"))
    now = datetime(2026, 9, 24, 4, 0, tzinfo=UTC)
    assert next_run_at(now, [time(21, 30), digests], NEW_YORK) == datetime(
        2026, 9, 24, 5, 0, tzinfo=UTC
    )


def test_the_plan_adds_the_digest_hour_and_an_interval_replaces_the_times() -> None:
    timing = schedule_plan(times=(time(21, 30),), digest_hour=7, digest_zone="UTC").timing()
    assert timing.times[-1] == time(7, 0, tzinfo=ZoneInfo("UTC"))
    assert schedule_plan().timing(every_seconds=2).every_seconds == 2
    with pytest.raises(ValueError, match="times of day or an interval"):
        Timing()
