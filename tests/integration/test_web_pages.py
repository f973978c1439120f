"""The HTML site through uvicorn on loopback: every page, its links, its errors and its headers."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from dailypapers.web.app import create_app
from tests.integration.web_server import (
    HOSTILE_DAY,
    HOSTILE_ID,
    OLD_STYLE_ID,
    LiveServer,
    sample_hf,
    serve,
)

SAMPLE = sample_hf()
DAYS = sorted(Counter(r["daily_date"] for r in SAMPLE))
LATEST = DAYS[-1]


def _by_upvotes(day: str) -> list[dict[str, object]]:
    records = [r for r in SAMPLE if r["daily_date"] == day]
    records.sort(key=lambda r: r["arxiv_id"], reverse=True)
    return sorted(records, key=lambda r: r["upvotes"], reverse=True)


def _titles(html: str) -> list[str]:
    """Card titles, with search highlighting (<mark>) removed."""
    found = re.findall(
        r'<h2 id="t-[^"]+">(?:<span class="rank"[^>]*>#\d+</span> )?<a href="[^"]+">(.*?)</a>', html
    )
    return [re.sub(r"</?mark>", "", title) for title in found]


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&#39;", "'").replace("&#34;", '"')


def test_home_shows_the_latest_featured_day_sorted_by_upvotes(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'datetime="{LATEST}"' in response.text
    expected = [r["title"] for r in _by_upvotes(LATEST)]
    assert [_unescape(t) for t in _titles(response.text)] == expected


def test_both_day_url_forms_show_the_same_day(http: httpx.Client) -> None:
    day = DAYS[10]
    query_form = http.get("/papers", params={"date": day})
    hf_form = http.get(f"/papers/date/{day}")
    assert query_form.status_code == hf_form.status_code == 200
    assert _titles(query_form.text) == _titles(hf_form.text)
    assert len(_titles(hf_form.text)) == len(_by_upvotes(day))


def test_previous_and_next_day_links_skip_empty_days(http: httpx.Client) -> None:
    for index in (1, 5, 20):
        html = http.get(f"/papers/date/{DAYS[index]}").text
        assert f'rel="prev" href="/papers/date/{DAYS[index - 1]}"' in html
        assert f'rel="next" href="/papers/date/{DAYS[index + 1]}"' in html
    first = http.get(f"/papers/date/{DAYS[0]}").text
    assert f'rel="prev" href="/papers/date/{HOSTILE_DAY}"' in first
    assert 'rel="next"' not in http.get(f"/papers/date/{LATEST}").text.split("<main")[1][:4000]


def test_an_empty_day_between_featured_days_says_why(http: httpx.Client) -> None:
    gap = next(
        d
        for d in (date.fromordinal(date.fromisoformat(DAYS[0]).toordinal() + i) for i in range(60))
        if d.isoformat() not in DAYS
    )
    html = http.get(f"/papers/date/{gap.isoformat()}").text
    assert "No papers were featured on" in html
    assert "community days" in html
    assert "The last import finished at" in html
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_a_day_after_the_newest_says_nothing_is_featured_yet(http: httpx.Client) -> None:
    html = http.get("/papers/date/2026-11-27").text
    assert "Nothing featured yet for 2026-11-27" in html
    assert f'href="/papers/date/{LATEST}"' in html
    assert "The last import finished at" in html


@pytest.mark.parametrize(
    ("path", "start", "end"),
    [
        ("/papers/week/2026-W33", "2026-08-10", "2026-08-16"),
        ("/papers/month/2026-07", "2026-07-01", "2026-07-31"),
    ],
)
def test_week_and_month_views_hold_their_days(
    http: httpx.Client, path: str, start: str, end: str
) -> None:
    html = http.get(path).text
    expected = sum(1 for r in SAMPLE if start <= r["daily_date"] <= end)
    assert f"{expected} papers, most upvoted first" in html
    assert 'rel="prev"' in html and 'rel="next"' in html


def test_the_paper_page_has_everything_a_reader_needs(http: httpx.Client) -> None:
    record = next(r for r in _by_upvotes(LATEST) if r.get("github"))
    html = http.get(f"/papers/{record['arxiv_id']}").text
    assert _unescape(record["abstract"][:200]) in _unescape(html)
    for name in record["authors"][:3]:
        assert f'">{name}</a>' in _unescape(html)
    assert f'href="https://arxiv.org/abs/{record["arxiv_id"]}"' in html
    assert f'href="https://arxiv.org/pdf/{record["arxiv_id"]}"' in html
    assert f'href="{record["github"]}"' in html
    assert f'href="/papers/date/{LATEST}"' in html
    assert f'<span class="count">{record["upvotes"]}</span>' in html
    assert f"eprint={{{record['arxiv_id']}}}" in html
    assert "archivePrefix={arXiv}" in html
    assert 'id="similar"' in html and 'id="comments"' in html


def test_a_paper_page_takes_a_versioned_id(http: httpx.Client) -> None:
    record = SAMPLE[0]
    response = http.get(f"/papers/{record['arxiv_id']}v3")
    assert response.status_code == 200
    assert _unescape(record["title"]) in _unescape(response.text)


def test_an_old_style_id_shows_versions_and_the_withdrawal(http: httpx.Client) -> None:
    html = http.get(f"/papers/{OLD_STYLE_ID}").text
    assert "Old-Style Identifiers Still Work" in html
    assert f'href="https://arxiv.org/abs/{OLD_STYLE_ID}v1"' in html
    assert f'href="https://arxiv.org/abs/{OLD_STYLE_ID}v2"' in html
    assert "<strong>Withdrawn.</strong>" in html
    assert 'href="/authors/Ann%20Oldtimer"' in html


def test_author_pages_match_whatever_the_case_and_accents(http: httpx.Client) -> None:
    for spelling in ("Zoë Ünïcode-Author", "zoe unicode-author", "ZOE  UNICODE-AUTHOR"):
        response = http.get(f"/authors/{spelling}")
        assert response.status_code == 200, spelling
        assert "<h1>Zoë Ünïcode-Author</h1>" in response.text
        assert HOSTILE_ID in response.text
    assert http.get("/authors/Nobody%20Atall").status_code == 404


def test_author_pages_list_newest_first(http: httpx.Client) -> None:
    counts = Counter(name for r in SAMPLE for name in r["authors"])
    name, count = counts.most_common(1)[0]
    html = http.get(f"/authors/{name}").text
    assert f"{count} paper" in html
    dates = re.findall(r'<li><time datetime="(\d{4}-\d{2}-\d{2})">', html)
    assert dates == sorted(dates, reverse=True)


def test_trending_ranks_recent_upvotes(http: httpx.Client) -> None:
    html = http.get("/trending").text
    titles = [_unescape(t) for t in _titles(html)]
    assert titles
    top_latest = _by_upvotes(LATEST)[0]
    assert top_latest["title"] in titles[:5]
    ranks = [int(r) for r in re.findall(r'<span class="rank"[^>]*>#(\d+)</span>', html)]
    assert ranks == list(range(1, len(titles) + 1))


def test_the_search_box_is_on_every_page_and_finds_papers(http: httpx.Client) -> None:
    for path in ("/", "/trending", f"/papers/{SAMPLE[0]['arxiv_id']}", "/search"):
        assert 'role="search"' in http.get(path).text
    record = _by_upvotes(LATEST)[0]
    word = max(re.findall(r"\w+", record["title"]), key=len)
    html = http.get("/search", params={"q": word}).text
    assert _unescape(record["title"]) in [_unescape(t) for t in _titles(html)]
    assert "No paper matches" in http.get("/search", params={"q": "zzqqxxnotaword"}).text


def test_a_title_with_a_script_tag_renders_inert(http: httpx.Client) -> None:
    for path in (
        f"/papers/date/{HOSTILE_DAY}",
        f"/papers/{HOSTILE_ID}",
        "/search?q=Attention+Everything",
        "/authors/Bob%20%3Ci%3EItalic%3C%2Fi%3E",
    ):
        html = http.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x onerror" not in html, path
        assert "&lt;img src=x onerror=" in html or path.startswith("/authors"), path
        assert "<i>Italic</i>" not in html, path
    assert (
        "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"
        in http.get(f"/papers/{HOSTILE_ID}").text
    )


@pytest.mark.parametrize(
    "path",
    [
        "/papers?date=2026-02-30",
        "/papers?date=yesterday",
        "/papers/date/2026-13-01",
        "/papers/week/2026-W54",
        "/papers/month/2026-13",
        "/?p=abc",
        "/?p=-1",
        "/trending?p=99999999999999999999999",
        "/search?q=" + "x" * 2001,
        "/?format=pdf",
    ],
)
def test_bad_parameters_give_a_400_page(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Bad Request" in response.text


@pytest.mark.parametrize("path", ["/no/such/page", "/papers/2101.99999", "/papers/not-an-id"])
def test_unknown_things_give_a_404_page(http: httpx.Client, path: str) -> None:
    response = http.get(path)
    assert response.status_code == 404
    assert "Not Found" in response.text and 'role="search"' in response.text


@pytest.fixture(scope="module")
def failing_server(live_server: LiveServer) -> Iterator[LiveServer]:
    app = create_app(live_server.services)

    def explode() -> None:
        raise RuntimeError("db password is hunter2 at /srv/secret/path.py")

    app.add_api_route("/explode", explode)
    app.add_api_route("/api/explode", explode)
    with serve(live_server.services, app) as server:
        yield server


@pytest.mark.parametrize("path", ["/explode", "/api/explode"])
def test_a_server_error_page_leaks_nothing(failing_server: LiveServer, path: str) -> None:
    with failing_server.client() as client:
        response = client.get(path)
    assert response.status_code == 500
    for secret in ("hunter2", "RuntimeError", "/srv/secret", "Traceback"):
        assert secret not in response.text


def test_pages_carry_caching_headers_and_answer_conditional_gets(http: httpx.Client) -> None:
    first = http.get(f"/papers/date/{LATEST}")
    assert "max-age=" in first.headers["cache-control"]
    etag = first.headers["etag"]
    again = http.get(f"/papers/date/{LATEST}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""


def test_pages_are_gzipped_for_clients_that_accept_it(http: httpx.Client) -> None:
    response = http.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    raw = http.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert gzip.compress(raw.content)  # the plain body is there too


def test_every_response_carries_a_strict_content_security_policy(http: httpx.Client) -> None:
    for path in ("/", "/docs", "/api/daily_papers?limit=1", "/no/such/page"):
        policy = http.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'self'" in policy


def test_docs_are_served_with_local_assets_only(http: httpx.Client) -> None:
    html = http.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    assert "<script>" not in html  # no inline script: the CSP would block it


def test_any_list_exports_as_bibtex(http: httpx.Client) -> None:
    for path in (f"/papers/date/{LATEST}", "/papers/week/2026-W33", "/trending", "/search?q=robot"):
        response = http.get(path + ("&" if "?" in path else "?") + "format=bib")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/x-bibtex")
        keys = re.findall(r"^@misc\{([^,]+),", response.text, flags=re.M)
        assert keys and len(keys) == len(set(keys)), path
        assert "archivePrefix={arXiv}" in response.text
    day = http.get(f"/papers/date/{LATEST}", params={"format": "bib"}).text
    assert day.count("@misc{") == len(_by_upvotes(LATEST))


def test_the_paper_markdown_is_served(http: httpx.Client) -> None:
    record = SAMPLE[3]
    response = http.get(f"/papers/{record['arxiv_id']}.md")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert response.text.startswith(f"# {record['title']}")
    assert http.get(f"/papers/{OLD_STYLE_ID}.md").status_code == 200
    accept = http.get(f"/papers/{record['arxiv_id']}", headers={"Accept": "text/markdown"})
    assert accept.text == response.text


def test_healthz_reports_the_store(http: httpx.Client) -> None:
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "latest_featured_day": LATEST}
