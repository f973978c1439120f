"""Server-rendered SVG geometry for the site's charts (no JS charting): bars per month or per day,
and a paper's upvotes sparkline. Pure: counts in, coordinates and text summaries out; the markup
is in templates/_charts.html.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dailypapers.catalog import DayCount, UpvoteHistory
from dailypapers.search.results import MonthCount

# The chart keeps at most this many months: the most recent ones, so the bars stay readable.
MAX_MONTHS = 36
# The widest slot and bar one count gets, in viewBox units (pixels at full size). With only a
# few months or days the chart is drawn narrower than the page rather than as one wide block.
MAX_SLOT = 36.0
MAX_BAR_WIDTH = 28.0
# The sparkline's line is the count sampled at this many instants: smooth, and a small page
# however many votes a paper has.
SPARKLINE_SAMPLES = 60
# "n in the last week" in the sparkline's summary.
RECENT = timedelta(days=7)
# The shortest time axis a sparkline draws, so that a first vote still draws a rise.
_MIN_SPAN = timedelta(hours=1)
_PAD = 3.0  # room for the stroke and the end dot at the top and bottom, in viewBox units


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class BarChart:
    """Bars left to right; `width` is the drawn width, less than asked for when bars are few."""

    title: str
    bars: tuple[Bar, ...]
    width: float
    height: int
    fills: bool  # the bars span the whole width asked for (draw it 100% wide)
    peak: int
    total: int
    first: str
    last: str
    summary: str


@dataclass(frozen=True, slots=True)
class Sparkline:
    """A cumulative count as a line (SVG polyline points) over a filled area (an SVG path)."""

    width: int
    height: int
    line: str
    area: str
    end_x: float
    end_y: float
    low: int  # the count where the line starts
    high: int  # the count now
    starts_on: date
    recent: int
    summary: str


def bar_chart(
    series: Sequence[tuple[str, int]], *, title: str, width: int = 640, height: int = 80
) -> BarChart | None:
    """One bar per (label, count), in order; None when there is nothing to count."""
    total = sum(count for _, count in series)
    if total <= 0:
        return None
    peak = max(count for _, count in series)
    slot = min(width / len(series), MAX_SLOT)
    bar_width = min(slot - min(2.0, slot * 0.2), MAX_BAR_WIDTH)
    bars = []
    for position, (label, count) in enumerate(series):
        bar_height = 0.0 if count <= 0 else max(1.5, (height - 2) * count / peak)
        bars.append(
            Bar(
                label=label,
                count=count,
                x=round(position * slot + (slot - bar_width) / 2, 2),
                y=round(height - bar_height, 2),
                width=round(bar_width, 2),
                height=round(bar_height, 2),
            )
        )
    drawn = round(slot * len(series), 2)
    first, last = series[0][0], series[-1][0]
    busiest = next(label for label, count in series if count == peak)
    return BarChart(
        title=title,
        bars=tuple(bars),
        width=drawn,
        height=height,
        fills=drawn >= width,
        peak=peak,
        total=total,
        first=first,
        last=last,
        summary=_bars_summary(title, first, last, total, peak, busiest),
    )


def _bars_summary(title: str, first: str, last: str, total: int, peak: int, busiest: str) -> str:
    if first == last:
        return f"{title}: {total} in {first}."
    return f"{title} from {first} to {last}: {total} in all, at most {peak} ({busiest})."


def month_chart(
    months: Sequence[MonthCount],
    *,
    title: str = "Matches per month",
    width: int = 640,
    height: int = 80,
) -> BarChart | None:
    """Bars for each month from the first to the last with a count, empty months included."""
    counts = {m.month: m.count for m in months if m.count > 0}
    if not counts:
        return None
    span = _months_between(min(counts), max(counts))[-MAX_MONTHS:]
    series = [(month, counts.get(month, 0)) for month in span]
    return bar_chart(series, title=title, width=width, height=height)


def day_chart(
    days: Sequence[DayCount], *, title: str = "Papers per day", width: int = 640, height: int = 64
) -> BarChart | None:
    """Bars for each day given, labelled like "Mon 4 May"; None when every day is empty."""
    series = [(f"{d.day:%a} {d.day.day} {d.day:%b}", d.count) for d in days]
    return bar_chart(series, title=title, width=width, height=height)


def sparkline(
    history: UpvoteHistory, *, now: datetime, width: int = 320, height: int = 48
) -> Sparkline | None:
    """The paper's upvotes from `history.starts_at` to now; None without a local vote.

    The line starts at the imported baseline (see UpvoteHistory) and is scaled from there to
    today's count, so a handful of local votes on top of hundreds imported still shows its rise.
    The axis ends at `now` to the hour, so the page renders the same within an hour.
    """
    times = history.vote_times
    start = history.starts_at
    if start is None or not times:
        return None
    end = max(now.replace(minute=0, second=0, microsecond=0), times[-1], start + _MIN_SPAN)
    low, high = history.baseline, history.total
    span = end - start
    points = []
    for k in range(SPARKLINE_SAMPLES):
        at = start + span * k / (SPARKLINE_SAMPLES - 1)
        count = low if k == 0 else low + bisect_right(times, at)
        x = _PAD + (width - 2 * _PAD) * k / (SPARKLINE_SAMPLES - 1)
        y = _PAD + (height - 2 * _PAD) * (high - count) / (high - low)
        points.append((round(x, 2), round(y, 2)))
    points = _without_flat_middles(points)
    line = " ".join(f"{x},{y}" for x, y in points)
    area = f"M{points[0][0]},{height} L" + " L".join(f"{x},{y}" for x, y in points)
    area += f" L{points[-1][0]},{height} Z"
    recent = len(times) - bisect_right(times, now - RECENT)
    return Sparkline(
        width=width,
        height=height,
        line=line,
        area=area,
        end_x=points[-1][0],
        end_y=points[-1][1],
        low=low,
        high=high,
        starts_on=start.date(),
        recent=recent,
        summary=_upvotes_summary(history, recent),
    )


def _without_flat_middles(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop the points inside a flat stretch: the same line, less markup."""
    kept = points[:1]
    for before, point, after in zip(points, points[1:], points[2:], strict=False):
        if not before[1] == point[1] == after[1]:
            kept.append(point)
    return [*kept, points[-1]]


def _upvotes_summary(history: UpvoteHistory, recent: int) -> str:
    total, local = history.total, len(history.vote_times)
    week = f"{recent} in the last week"
    first_vote = _long(history.vote_times[0].date())
    if history.baseline == 0:
        return f"{total} upvote{'' if total == 1 else 's'} since {first_vote}; {week}"
    return (
        f"{total} upvotes: {history.baseline} from Hugging Face, "
        f"then {local} here since {first_vote}; {week}"
    )


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    end = (int(last[:4]), int(last[5:7]))
    months = []
    while (year, month) <= end:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months
