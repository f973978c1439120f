"""The site's charts through uvicorn on loopback (#16): the upvotes sparkline on a paper page,
papers per day on the week and month views, papers per month on an author page, and the search
chart's bars staying bars when the matches fall in one month.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dailypapers.store.users import ensure_user
from dailypapers.store.votes import add_vote
from dailypapers.web.charts import MAX_BAR_WIDTH
from tests.integration.web_server import (
    SAMPLE_ARXIV,
    build_services,
    populate,
    sample_hf,
    serve,
)

SAMPLE = sample_hf()
HF_IDS = {r["arxiv_id"] for r in SAMPLE}
with gzip.open(SAMPLE_ARXIV, "rt") as _handle:
    ARXIV = [json.loads(line) for line in _handle]
# A featured paper with an imported count, and an arXiv-only paper that was never featured.
FEATURED = max(SAMPLE, key=lambda r: (r["upvotes"], r["arxiv_id"]))
UNFEATURED = next(r for r in ARXIV if r["arxiv_id"] not in HF_IDS)
UNVOTED = min(SAMPLE, key=lambda r: (r["upvotes"], r["arxiv_id"]))
NOW = datetime.now(UTC)
# How long ago each local vote on FEATURED was cast: two of the three in the last week.
VOTES_AGO = (timedelta(days=20), timedelta(days=3), timedelta(hours=1))
WEEK, WEEK_DAYS = "2026-W28", [date(2026, 7, 6) + timedelta(days=n) for n in range(7)]
AUTHOR = "Kaipeng Zhang"


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server of its own: its votes must not move the shared server's trending window."""
    tmp: Path = tmp_path_factory.mktemp("web-charts")
    services = build_services(tmp / "data")
    populate(services, tmp)
    with services.db.write() as conn:
        for n, ago in enumerate(VOTES_AGO):
            user = ensure_user(conn, f"fan{n}@example.org", f"fan{n}", NOW - ago)
            add_vote(conn, user.id, FEATURED["arxiv_id"], NOW - ago)
            if n < 2:
                add_vote(conn, user.id, UNFEATURED["arxiv_id"], NOW - ago)
    with serve(services) as server, server.client() as client:
        yield client
    services.close()


def _figure(html: str, css_class: str) -> str:
    found = re.search(rf'<figure class="{css_class}">.*?</figure>', html, re.S)
    assert found is not None, f"no {css_class} figure on the page"
    assert "style=" not in found[0], "the CSP forbids inline styles"
    return found[0]


def _image_title(figure: str) -> str:
    svg = re.search(r'<svg [^>]*role="img" aria-labelledby="([^"]+)"', figure)
    assert svg is not None, "the chart is not an image with a label"
    title = re.search(rf'<title id="{svg[1]}">(.*?)</title>', figure)
    assert title is not None
    return title[1]


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _bars(figure: str) -> list[tuple[str, int]]:
    return [(label, int(n)) for label, n in re.findall(r"<title>([^<:]+): (\d+)</title>", figure)]


def _hidden_rows(figure: str) -> list[tuple[str, int]]:
    table = re.search(r'<table class="visually-hidden">.*?</table>', figure, re.S)
    assert table is not None, "the bars have no table for screen readers"
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table[0])
    return [(label, int(n)) for label, n in rows]


def test_a_paper_with_votes_shows_its_upvotes_over_time(http: httpx.Client) -> None:
    html = http.get(f"/papers/{FEATURED['arxiv_id']}").text
    figure = _figure(html, "sparkline")
    baseline = FEATURED["upvotes"]
    first_vote = (NOW - VOTES_AGO[0]).date()
    summary = (
        f"{baseline + 3} upvotes: {baseline} from Hugging Face, "
        f"then 3 here since {_long(first_vote)}; 2 in the last week"
    )
    assert _image_title(figure) == f"Upvotes over time: {summary}"
    assert f'<figcaption aria-hidden="true">{summary}</figcaption>' in figure
    assert re.search(r'<polyline class="line" points="[\d., ]+"', figure)
    assert f'<span class="count">{baseline + 3}</span>' in html


def test_a_never_featured_paper_counts_from_its_first_vote(http: httpx.Client) -> None:
    html = http.get(f"/papers/{UNFEATURED['arxiv_id']}").text
    first_vote = (NOW - VOTES_AGO[0]).date()
    assert _image_title(_figure(html, "sparkline")) == (
        f"Upvotes over time: 2 upvotes since {_long(first_vote)}; 1 in the last week"
    )


def test_a_paper_without_local_votes_draws_no_sparkline(http: httpx.Client) -> None:
    html = http.get(f"/papers/{UNVOTED['arxiv_id']}").text
    assert "<h1" in html
    assert 'class="sparkline"' not in html


def test_the_week_view_draws_papers_per_day_for_the_whole_week(http: httpx.Client) -> None:
    html = http.get(f"/papers/week/{WEEK}").text
    expected = [sum(r["daily_date"] == day.isoformat() for r in SAMPLE) for day in WEEK_DAYS]
    assert sum(expected) > 50, "the week should be longer than one page of cards"
    figure = _figure(html, "bar-chart")
    labels = [f"{day:%a} {day.day} {day:%b}" for day in WEEK_DAYS]
    assert _bars(figure) == list(zip(labels, expected, strict=True))
    assert _hidden_rows(figure) == _bars(figure)
    busiest = labels[expected.index(max(expected))]
    assert _image_title(figure) == (
        f"Papers per day from {labels[0]} to {labels[-1]}: {sum(expected)} in all, "
        f"at most {max(expected)} ({busiest})."
    )


def test_the_month_view_draws_a_bar_for_every_day_of_the_month(http: httpx.Client) -> None:
    html = http.get("/papers/month/2026-07").text
    figure = _figure(html, "bar-chart")
    bars = _bars(figure)
    assert len(bars) == 31
    assert sum(n for _, n in bars) == sum(r["daily_date"].startswith("2026-07") for r in SAMPLE)
    assert bars[4] == ("Sun 5 Jul", 0)
    assert _image_title(figure).startswith("Papers per day from Wed 1 Jul to Fri 31 Jul: ")
    assert re.search(r'<svg [^>]*width="100%"', figure), "a month of bars fills the width"


def test_the_day_view_has_no_per_day_chart(http: httpx.Client) -> None:
    html = http.get("/papers/date/2026-07-07").text
    assert "<h2 id=" in html
    assert 'class="bar-chart"' not in html


def test_an_author_page_draws_papers_per_month(http: httpx.Client) -> None:
    html = http.get(f"/authors/{AUTHOR}").text
    total = re.search(r'<p class="subtitle">(\d+) papers? in this hub', html)
    assert total is not None
    figure = _figure(html, "bar-chart")
    bars = _bars(figure)
    assert all(re.fullmatch(r"\d{4}-\d{2}", label) for label, _ in bars)
    assert sum(n for _, n in bars) == int(total[1])
    assert _image_title(figure).startswith("Papers per month")
    assert _hidden_rows(figure) == bars


def test_matches_in_a_single_month_draw_a_narrow_bar(http: httpx.Client) -> None:
    params = {"q": "learning", "from": "2026-05-01", "to": "2026-05-31"}
    html = http.get("/search", params=params).text
    figure = _figure(html, "month-chart")
    assert [label for label, _ in _bars(figure)] == ["2026-05"]
    svg = re.search(r'<svg viewBox="0 0 ([\d.]+) \d+" width="([^"]+)"', figure)
    assert svg is not None
    assert svg[2] != "100%", "one month must not be drawn as a full-width block"
    assert float(svg[1]) <= 2 * MAX_BAR_WIDTH
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', figure)]
    assert widths and all(w <= MAX_BAR_WIDTH for w in widths)
    assert _image_title(figure).startswith("Matches per month: ")
