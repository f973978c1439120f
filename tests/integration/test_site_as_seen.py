"""What a first visit reads on the served pages (#16): names on cards, one search box, the mode
that ran and why, exports apart from the period tabs, the paper page's side column."""

from __future__ import annotations

import re

import httpx

from tests.integration.web_server import sample_hf


def _cards(html: str) -> list[str]:
    return re.findall(r'<li class="card">.*?</li>\s*(?=<li class="card">|</ol>)', html, re.S)


def test_cards_show_the_first_author_names_not_a_count(http: httpx.Client) -> None:
    html = http.get("/trending").text
    cards = _cards(html)
    assert cards
    by_id = {r["arxiv_id"]: r for r in sample_hf()}
    checked = 0
    for card in cards:
        arxiv_id = re.search(r'href="/papers/([^"#]+)"', card)
        assert arxiv_id is not None
        authors = by_id.get(arxiv_id[1], {}).get("authors", [])
        if len(authors) < 4:
            continue
        byline = re.search(r'<li class="by"[^>]*>(.*?)</li>', card, re.S)
        assert byline is not None, card
        assert authors[0].replace("'", "&#39;") in byline[1]
        assert f"+{len(authors) - 3} more" in byline[1]
        checked += 1
    assert checked >= 3
    assert not re.search(r"\d+ authors</li>", html)


def test_trending_ranks_papers_instead_of_printing_a_raw_score(http: httpx.Client) -> None:
    html = http.get("/trending").text
    assert "score " not in html
    ranks = re.findall(r'<span class="rank"[^>]*>#(\d+)</span>', html)
    assert ranks[:3] == ["1", "2", "3"]


def test_a_fielded_search_says_why_it_ran_by_keyword(http: httpx.Client) -> None:
    html = http.get("/search", params={"q": "ti:diffusion", "mode": "hybrid"}).text
    assert "Keyword search" in html
    assert '<option value="hybrid" selected>' in html
    assert "match by field, which keyword search does" in html
    plain = http.get("/search", params={"q": "diffusion", "mode": "keyword"}).text
    assert 'class="mode-note"' not in plain
    dated = http.get("/search", params={"q": "diffusion", "sort": "date"}).text
    assert "sorted newest first, so matched by keyword" in dated


def test_the_period_tabs_hold_periods_and_the_exports_sit_apart(http: httpx.Client) -> None:
    day = sample_hf()[0]["daily_date"]
    html = http.get(f"/papers/date/{day}").text
    tabs = re.search(r'<nav class="tabs" aria-label="Period">(.*?)</nav>', html, re.S)
    assert tabs is not None
    assert re.findall(r">(\w+)</a>", tabs[1]) == ["Day", "Week", "Month"]
    exports = re.search(r'<ul class="exports"[^>]*>(.*?)</ul>', html, re.S)
    assert exports is not None
    assert "format=bib" in exports[1] and "/feeds/daily.atom" in exports[1]


def test_the_paper_page_has_a_side_column_with_a_labelled_upvote_button(
    http: httpx.Client,
) -> None:
    record = next(r for r in sample_hf() if r.get("github"))
    html = http.get(f"/papers/{record['arxiv_id']}").text
    side = re.search(r'<aside class="paper-side".*?</aside>', html, re.S)
    assert side is not None
    assert re.search(r'class="votes big".*?<span class="label">Upvote</span>', side[0], re.S)
    for link in ("PDF", "arXiv page", "Code", "Markdown"):
        assert f">{link}</a>" in side[0]
    assert 'id="similar"' in side[0]
    assert "arrives with harvesting" not in html
    assert "dailypapers index" not in html  # operator talk is for operators


def test_a_long_author_list_is_folded_under_the_first_names(http: httpx.Client) -> None:
    record = max(sample_hf(), key=lambda r: len(r["authors"]))
    assert len(record["authors"]) > 12
    html = http.get(f"/papers/{record['arxiv_id']}").text
    first = re.search(r'<ul class="authors" aria-label="Authors">(.*?)</ul>', html, re.S)
    assert first is not None
    assert len(re.findall(r"<li>", first[1])) == 12
    listed = len(re.findall(r'<li><a href="/authors/', html))
    assert listed >= len(set(record["authors"]))  # every name is still there, one click away
    assert f"+{listed - 12} more authors</summary>" in html
