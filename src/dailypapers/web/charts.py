"""Server-rendered SVG geometry for the search page's matches-per-month chart (no JS charting)."""

from __future__ import annotations

from dataclasses import dataclass

from dailypapers.search.results import MonthCount

# The chart keeps at most this many months: the most recent ones, so the bars stay readable.
MAX_MONTHS = 36


@dataclass(frozen=True, slots=True)
class Bar:
    month: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class MonthChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    peak: int
    first: str
    last: str


def month_chart(
    months: tuple[MonthCount, ...], *, width: int = 640, height: int = 80
) -> MonthChart | None:
    """Bars for each month from the first to the last with a match, empty months included."""
    counts = {m.month: m.count for m in months if m.count > 0}
    if not counts:
        return None
    span = _months_between(min(counts), max(counts))[-MAX_MONTHS:]
    peak = max(counts.get(month, 0) for month in span) or 1
    slot = width / len(span)
    gap = min(2.0, slot * 0.2)
    bars = []
    for position, month in enumerate(span):
        count = counts.get(month, 0)
        bar_height = 0.0 if count == 0 else max(1.5, (height - 2) * count / peak)
        bars.append(
            Bar(
                month=month,
                count=count,
                x=round(position * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
            )
        )
    return MonthChart(tuple(bars), width, height, peak, span[0], span[-1])


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
