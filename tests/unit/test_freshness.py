"""arXiv's announce calendar and harvest lag on a fixed clock (Eastern evenings, UTC instants)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dailypapers.domain.calendar import (
    announcement_at,
    arxiv_holidays,
    compute_lag,
    is_mailing_day,
    latest_announcement,
    mailing_day,
    next_announcement,
    parse_holidays,
)

# 2026-09-23 is a Wednesday in daylight time (UTC-4); 2026-11-26 is Thanksgiving (UTC-5).
WEDNESDAY_ANNOUNCEMENT = datetime(2026, 9, 24, 0, 0, tzinfo=UTC)


def test_announcements_are_at_20_eastern_in_daylight_and_standard_time() -> None:
    assert announcement_at(date(2026, 9, 23)) == WEDNESDAY_ANNOUNCEMENT
    assert announcement_at(date(2026, 12, 2)) == datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def test_an_announcement_is_dated_the_next_eastern_day() -> None:
    assert mailing_day(WEDNESDAY_ANNOUNCEMENT) == date(2026, 9, 24)
    assert is_mailing_day(date(2026, 9, 28))  # Monday: Sunday evening's announcement
    assert not is_mailing_day(date(2026, 9, 26))  # Saturday: nothing on Friday evening
    assert not is_mailing_day(date(2026, 11, 27))  # the Friday after Thanksgiving


def test_every_packaged_holiday_falls_on_an_announcing_weekday() -> None:
    holidays = arxiv_holidays()
    assert date(2026, 11, 26) in holidays
    assert all(day.weekday() in {6, 0, 1, 2, 3} for day in holidays)


def test_holiday_lines_allow_comments_and_blank_lines() -> None:
    text = "# a comment\n\n2026-11-26  Thanksgiving  # US\n2026-12-24\n"
    assert parse_holidays(text) == {
        date(2026, 11, 26): "Thanksgiving",
        date(2026, 12, 24): "arXiv holiday",
    }


def test_an_on_time_harvest_after_the_announcement_is_up_to_date() -> None:
    now = datetime(2026, 9, 24, 14, 0, tzinfo=UTC)  # Thursday morning Eastern
    lag = compute_lag(now, WEDNESDAY_ANNOUNCEMENT + timedelta(hours=2))
    assert lag.state == "on_time"
    assert lag.expected_mailing_day == date(2026, 9, 24)
    assert lag.next_announcement_at == datetime(2026, 9, 25, 0, 0, tzinfo=UTC)
    assert lag.message == "The harvest is up to date with arXiv's latest announcement."


def test_a_harvest_missing_the_announcement_past_the_grace_is_late_by_whole_hours() -> None:
    now = datetime(2026, 9, 24, 9, 0, tzinfo=UTC)  # 9 hours after Wednesday's announcement
    lag = compute_lag(now, WEDNESDAY_ANNOUNCEMENT - timedelta(hours=20), grace_hours=6)
    assert lag.state == "late"
    assert lag.late_hours == 9
    assert lag.message == "The harvest is late by 9 hours."


def test_a_harvest_within_the_grace_is_waiting_not_late() -> None:
    now = WEDNESDAY_ANNOUNCEMENT + timedelta(hours=1)
    lag = compute_lag(now, WEDNESDAY_ANNOUNCEMENT - timedelta(hours=20), grace_hours=6)
    assert lag.state == "waiting"
    assert lag.late_hours == 0


def test_a_friday_with_thursdays_announcement_harvested_has_no_announcement_today() -> None:
    thursday_evening = announcement_at(date(2026, 9, 24))
    now = datetime(2026, 9, 25, 18, 0, tzinfo=UTC)  # Friday 14:00 Eastern
    lag = compute_lag(now, thursday_evening + timedelta(hours=3))
    assert lag.state == "no_announcement_today"
    assert lag.message == "No arXiv announcement today (Friday)."
    assert lag.next_announcement_at == announcement_at(date(2026, 9, 27))  # Sunday


def test_a_saturday_still_expects_thursdays_announcement() -> None:
    thursday_evening = announcement_at(date(2026, 9, 24))
    saturday = datetime(2026, 9, 26, 15, 0, tzinfo=UTC)
    assert latest_announcement(saturday) == thursday_evening
    on_time = compute_lag(saturday, thursday_evening + timedelta(hours=1))
    assert on_time.message == "No arXiv announcement today (Saturday)."
    stale = compute_lag(saturday, thursday_evening - timedelta(hours=1))
    assert stale.state == "late"
    assert stale.late_hours == 39


def test_thanksgiving_has_no_announcement_and_the_next_is_sunday() -> None:
    wednesday_evening = announcement_at(date(2026, 11, 25))
    thanksgiving_night = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)  # Thursday 22:00 Eastern
    assert latest_announcement(thanksgiving_night) == wednesday_evening
    assert next_announcement(thanksgiving_night) == announcement_at(date(2026, 11, 29))
    lag = compute_lag(datetime(2026, 11, 26, 18, 0, tzinfo=UTC), wednesday_evening)
    assert lag.message == "No arXiv announcement today (Thanksgiving)."


def test_a_store_never_harvested_says_so() -> None:
    lag = compute_lag(WEDNESDAY_ANNOUNCEMENT, None)
    assert lag.state == "never"
    assert lag.message == "Nothing has been harvested from arXiv yet."
