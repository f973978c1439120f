"""The charts' geometry (bars per month or day, the upvotes sparkline): pure, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from dailypapers.catalog import DayCount, UpvoteHistory
from dailypapers.search.results import MonthCount
from dailypapers.web.charts import (
    MAX_BAR_WIDTH,
    MAX_MONTHS,
    MAX_SLOT,
    SPARKLINE_SAMPLES,
    bar_chart,
    day_chart,
    month_chart,
    sparkline,
)


def test_no_matches_draws_no_chart() -> None:
    assert month_chart(()) is None
    assert month_chart((MonthCount("2024-01", 0),)) is None


def test_months_without_matches_get_empty_bars_across_a_year_end() -> None:
    chart = month_chart((MonthCount("2024-11", 4), MonthCount("2025-02", 2)), width=400, height=100)
    assert chart is not None
    assert [b.label for b in chart.bars] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert [b.count for b in chart.bars] == [4, 0, 0, 2]
    tallest, empty, _, half = chart.bars
    assert tallest.height == 98 and tallest.y == 2
    assert empty.height == 0
    assert half.height == 49
    assert chart.peak == 4


def test_a_long_history_keeps_only_the_latest_months() -> None:
    months = tuple(MonthCount(f"{2000 + i // 12}-{i % 12 + 1:02d}", 1) for i in range(100))
    chart = month_chart(months)
    assert chart is not None
    assert len(chart.bars) == MAX_MONTHS
    assert chart.last == months[-1].month


def test_a_single_month_is_one_narrow_bar_not_a_full_width_block() -> None:
    chart = month_chart((MonthCount("2024-03", 5),))
    assert chart is not None
    (bar,) = chart.bars
    assert bar.width <= MAX_BAR_WIDTH
    assert chart.width <= MAX_SLOT
    assert not chart.fills
    assert chart.summary == "Matches per month: 5 in 2024-03."


def test_a_few_months_draw_narrower_than_the_width_asked_for() -> None:
    chart = month_chart((MonthCount("2024-01", 1), MonthCount("2024-03", 2)), width=640)
    assert chart is not None
    assert chart.width == 3 * MAX_SLOT
    assert not chart.fills
    assert all(bar.width <= MAX_BAR_WIDTH for bar in chart.bars)
    assert all(b.x + b.width <= chart.width for b in chart.bars)


def test_many_months_fill_the_width() -> None:
    months = tuple(MonthCount(f"{2020 + i // 12}-{i % 12 + 1:02d}", i % 3) for i in range(30))
    chart = month_chart(months, width=640)
    assert chart is not None
    assert chart.fills and chart.width == 640
    assert chart.summary.startswith("Matches per month from 2020-02 to 2022-06: ")


def test_bar_summaries_say_the_total_and_the_busiest_bar() -> None:
    chart = bar_chart([("a", 1), ("b", 4), ("c", 4), ("d", 0)], title="Things per slot")
    assert chart is not None
    assert chart.total == 9 and chart.peak == 4
    assert chart.summary == "Things per slot from a to d: 9 in all, at most 4 (b)."
    assert bar_chart([("a", 0)], title="x") is None
    assert bar_chart([], title="x") is None


def test_a_week_draws_one_bar_per_day_empty_days_included() -> None:
    monday = date(2026, 5, 4)
    days = [DayCount(monday + timedelta(days=n), count) for n, count in enumerate([3, 0, 7, 1])]
    chart = day_chart(days)
    assert chart is not None
    assert [b.label for b in chart.bars] == ["Mon 4 May", "Tue 5 May", "Wed 6 May", "Thu 7 May"]
    assert [b.count for b in chart.bars] == [3, 0, 7, 1]
    assert chart.bars[1].height == 0
    assert (
        chart.summary
        == "Papers per day from Mon 4 May to Thu 7 May: 11 in all, at most 7 (Wed 6 May)."
    )
    assert day_chart([DayCount(monday, 0)]) is None


NOW = datetime(2026, 3, 20, 15, 42, tzinfo=UTC)


def _history(baseline: int, *days_ago: float, start_days_ago: float | None = None) -> UpvoteHistory:
    times = tuple(sorted(NOW - timedelta(days=d) for d in days_ago))
    start = NOW - timedelta(days=start_days_ago) if start_days_ago is not None else times[0]
    return UpvoteHistory("2603.00001", baseline, times, start)


def test_no_local_vote_draws_no_sparkline() -> None:
    assert sparkline(UpvoteHistory("2603.00001", 40, (), None), now=NOW) is None


def test_the_sparkline_climbs_from_the_first_vote_to_todays_count() -> None:
    history = _history(0, 17, 10, 3, 2, 1)
    line = sparkline(history, now=NOW, width=320, height=48)
    assert line is not None
    points = [tuple(map(float, p.split(","))) for p in line.line.split()]
    assert 2 <= len(points) <= SPARKLINE_SAMPLES
    xs, ys = [x for x, _ in points], [y for _, y in points]
    assert xs == sorted(xs) and xs[0] >= 0 and xs[-1] <= 320
    # Up the page is more: y never grows, from the bottom (count 0) to the top (count 5).
    assert all(a >= b for a, b in pairwise(ys))
    assert ys[0] == 48 - 3 and ys[-1] == 3
    assert (line.low, line.high, line.recent) == (0, 5, 3)
    assert (line.end_x, line.end_y) == points[-1]
    assert line.area.startswith(f"M{xs[0]},48 L") and line.area.endswith(f"L{xs[-1]},48 Z")
    assert line.starts_on == date(2026, 3, 3)
    assert line.summary == "5 upvotes since 3 March 2026; 3 in the last week"


def test_an_imported_baseline_is_where_the_line_starts_on_the_featured_day() -> None:
    history = _history(400, 30, 2, start_days_ago=60)
    line = sparkline(history, now=NOW)
    assert line is not None
    assert (line.low, line.high) == (400, 402)
    assert line.starts_on == date(2026, 1, 19)
    first_y = float(line.line.split()[0].split(",")[1])
    assert first_y == line.height - 3  # the baseline is the bottom of the scale
    # Flat stretches keep only their ends: the weeks before the first local vote are one segment.
    assert len(line.line.split()) < SPARKLINE_SAMPLES / 2
    assert line.summary == (
        "402 upvotes: 400 from Hugging Face, then 2 here since 18 February 2026; 1 in the last week"
    )


def test_the_sparkline_renders_the_same_within_the_hour() -> None:
    history = _history(0, 5, 1)
    first = sparkline(history, now=NOW)
    later = sparkline(history, now=NOW + timedelta(minutes=10))
    assert first == later


def test_a_single_fresh_vote_still_draws_a_rise() -> None:
    history = UpvoteHistory("2603.00001", 0, (NOW,), NOW)
    line = sparkline(history, now=NOW)
    assert line is not None
    assert line.summary == "1 upvote since 20 March 2026; 1 in the last week"
    ys = [float(p.split(",")[1]) for p in line.line.split()]
    assert ys[0] > ys[-1]
