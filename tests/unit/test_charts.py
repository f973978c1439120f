"""The matches-per-month chart geometry: pure, no I/O."""

from __future__ import annotations

from dailypapers.search.results import MonthCount
from dailypapers.web.charts import MAX_MONTHS, month_chart


def test_no_matches_draws_no_chart() -> None:
    assert month_chart(()) is None
    assert month_chart((MonthCount("2024-01", 0),)) is None


def test_months_without_matches_get_empty_bars_across_a_year_end() -> None:
    chart = month_chart((MonthCount("2024-11", 4), MonthCount("2025-02", 2)), width=400, height=100)
    assert chart is not None
    assert [b.month for b in chart.bars] == ["2024-11", "2024-12", "2025-01", "2025-02"]
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
