"""The HF-compatible JSON API through uvicorn on loopback: shapes, ordering, paging, errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount, Route

from dailypapers.web.api_models import ErrorBody, HfDailyEntry, HfPaper, HfSearchEntry
from dailypapers.web.app import create_app
from tests.integration.web_server import (
    HOSTILE_DAY,
    HOSTILE_ID,
    OLD_STYLE_ID,
    LiveServer,
    sample_hf,
)

SAMPLE = sample_hf()
DAYS = sorted(Counter(r["daily_date"] for r in SAMPLE))
LATEST = DAYS[-1]
# Pages that are HTML on purpose (and static files): not part of the JSON API's document.
HTML_ONLY = {
    "/",
    "/papers",
    "/papers/date/{day}",
    "/papers/week/{week}",
    "/papers/month/{month}",
    "/papers/{arxiv_id:path}",
    "/authors/{name:path}",
    "/trending",
    "/search",
    "/docs",
    # Keep it fresh (#8): the freshness status page; `dailypapers status --json` is its twin.
    "/status",
    # Community (#6): forms and pages for people, with their JSON twins under /api/.
    "/signin",
    "/signin/confirm",
    "/signout",
    "/account",
    "/account/profile",
    "/account/email",
    "/account/email/confirm",
    "/account/delete",
    "/account/tokens",
    "/account/tokens/{token_id}/revoke",
    "/submit",
    "/papers/{arxiv_id:path}/upvote",
    "/papers/{arxiv_id:path}/comments",
    "/papers/{arxiv_id:path}/links",
    "/comments/{comment_id}/edit",
    "/comments/{comment_id}/delete",
    "/comments/{comment_id}/report",
    "/moderation",
    "/moderation/papers",
    "/moderation/comments/{comment_id}/delete",
    "/moderation/comments/{comment_id}/dismiss",
    "/moderation/users",
    # Digests (#7): the subscribe form and the pages behind every emailed link, for people.
    "/digest/subscribe",
    "/digest/confirm",
    "/digest/unsubscribe",
    "/digest/manage",
    "/digest/feedback",
    "/digest/view",
    "/admin/digest/preview",
    "/saved-searches",
    "/saved-searches/delete",
    "/account/digest",
    # Production (#10): Prometheus' text format for the scraper, not part of the JSON API.
    "/metrics",
}


def _entries(response: httpx.Response) -> list[HfDailyEntry]:
    """Daily entries; search entries must carry their extra `score` and `snippet` keys."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    if "/search" in str(response.url):
        return [HfSearchEntry.model_validate(item) for item in body]
    return [HfDailyEntry.model_validate(item) for item in body]


def test_daily_papers_for_a_date_is_a_bare_array_of_entries(http: httpx.Client) -> None:
    entries = _entries(http.get("/api/daily_papers", params={"date": LATEST}))
    expected = {r["arxiv_id"]: r for r in SAMPLE if r["daily_date"] == LATEST}
    assert {e.paper.id for e in entries} == set(expected)
    upvotes = [e.paper.upvotes for e in entries]
    assert upvotes == sorted(upvotes, reverse=True)
    for entry in entries:
        record = expected[entry.paper.id]
        assert entry.title == entry.paper.title == record["title"]
        assert entry.paper.upvotes == entry.upvotes == record["upvotes"]
        assert [a.name for a in entry.paper.authors] == record["authors"]
        assert entry.published_at == f"{LATEST}T00:00:00.000Z"
        assert entry.paper.submitted_on_daily_at == f"{LATEST}T00:00:00.000Z"
        assert entry.paper.published_at == f"{record['published']}T00:00:00.000Z"
        assert entry.num_comments == record["num_comments"]
        assert entry.github_repo == entry.paper.github_repo == record.get("github")


@pytest.mark.parametrize(
    ("params", "start", "end"),
    [
        ({"week": "2026-W33"}, "2026-08-10", "2026-08-16"),
        ({"month": "2026-07"}, "2026-07-01", "2026-07-31"),
    ],
)
def test_weeks_and_months_cover_their_days(
    http: httpx.Client, params: dict[str, str], start: str, end: str
) -> None:
    entries = _entries(http.get("/api/daily_papers", params={**params, "limit": 100}))
    expected = sorted(r["upvotes"] for r in SAMPLE if start <= r["daily_date"] <= end)[::-1]
    assert [e.paper.upvotes for e in entries] == expected[:100]


def test_without_a_period_the_newest_featured_come_first(http: httpx.Client) -> None:
    entries = _entries(http.get("/api/daily_papers", params={"limit": 100}))
    days = [e.published_at for e in entries]
    assert days == sorted(days, reverse=True)
    assert days[0] == f"{LATEST}T00:00:00.000Z"


def test_submitter_filters_the_list(http: httpx.Client) -> None:
    entries = _entries(http.get("/api/daily_papers", params={"submitter": "mallory"}))
    assert [e.paper.id for e in entries] == [HOSTILE_ID]
    assert entries[0].submitted_by is not None
    assert entries[0].submitted_by.user == "mallory"
    assert _entries(http.get("/api/daily_papers", params={"submitter": "nobody"})) == []


def test_trending_sort_ranks_by_decayed_upvotes(http: httpx.Client) -> None:
    entries = _entries(
        http.get("/api/daily_papers", params={"sort": "trending", "week": "2026-W33"})
    )
    assert entries
    ids = {r["arxiv_id"] for r in SAMPLE if "2026-08-10" <= r["daily_date"] <= "2026-08-16"}
    assert {e.paper.id for e in entries} <= ids
    latest_top = _entries(http.get("/api/daily_papers", params={"sort": "trending", "limit": 5}))
    assert latest_top and all(e.published_at >= f"{DAYS[-8]}" for e in latest_top)


def test_pagination_edges(http: httpx.Client) -> None:
    day = {"date": LATEST}
    total = sum(1 for r in SAMPLE if r["daily_date"] == LATEST)
    everything = [e.paper.id for e in _entries(http.get("/api/daily_papers", params=day))]
    assert len(everything) == total
    paged: list[str] = []
    for page in range(total):
        response = http.get("/api/daily_papers", params={**day, "limit": 1, "p": page})
        paged += [e.paper.id for e in _entries(response)]
        assert 'rel="next"' in response.headers["link"]
        assert f"p={page + 1}" in response.headers["link"]
    assert paged == everything
    past = http.get("/api/daily_papers", params={**day, "limit": 1, "p": total})
    assert past.json() == []
    assert "link" not in past.headers
    full = _entries(http.get("/api/daily_papers", params={**day, "limit": total}))
    assert len(full) == total
    assert len(_entries(http.get("/api/daily_papers", params={"limit": 100}))) == 100


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/daily_papers", {"date": "2026-02-30"}),
        ("/api/daily_papers", {"date": "21-08-2026"}),
        ("/api/daily_papers", {"date": "x" * 5000}),
        ("/api/daily_papers", {"week": "2026-W54"}),
        ("/api/daily_papers", {"week": "2026-W00"}),
        ("/api/daily_papers", {"week": "2026-33"}),
        ("/api/daily_papers", {"month": "2026-13"}),
        ("/api/daily_papers", {"date": LATEST, "week": "2026-W33"}),
        ("/api/daily_papers", {"limit": "0"}),
        ("/api/daily_papers", {"limit": "10000"}),
        ("/api/daily_papers", {"limit": "ten"}),
        ("/api/daily_papers", {"p": "-1"}),
        ("/api/daily_papers", {"p": "first"}),
        ("/api/daily_papers", {"p": "1e400"}),
        ("/api/daily_papers", {"p": "99999999999999999999999999"}),
        ("/api/daily_papers", {"sort": "random"}),
        ("/api/papers/search", {"q": "x" * 2001}),
        ("/api/papers/search", {"q": "graph", "limit": "121"}),
        ("/api/papers/search", {"q": "graph", "limit": "0"}),
        ("/api/papers/search", {"q": "graph", "p": "next"}),
    ],
)
def test_bad_parameters_give_400_with_a_json_error(
    http: httpx.Client, path: str, params: dict[str, str]
) -> None:
    response = http.get(path, params=params)
    assert response.status_code == 400, response.text
    error = ErrorBody.model_validate(response.json()).error
    assert error.code == "bad_request"
    assert error.message and len(error.message) < 500


def test_paper_by_id_with_or_without_version(http: httpx.Client) -> None:
    record = SAMPLE[5]
    for ident in (record["arxiv_id"], record["arxiv_id"] + "v2"):
        response = http.get(f"/api/papers/{ident}")
        assert response.status_code == 200
        paper = HfPaper.model_validate(response.json())
        assert paper.id == record["arxiv_id"]
        assert paper.title == record["title"]
        assert paper.upvotes == record["upvotes"]
        assert paper.submitted_on_daily_at == f"{record['daily_date']}T00:00:00.000Z"


def test_old_style_ids_and_withdrawals_come_through(http: httpx.Client) -> None:
    paper = HfPaper.model_validate(http.get(f"/api/papers/{OLD_STYLE_ID}").json())
    assert paper.id == OLD_STYLE_ID
    assert paper.withdrawn_at == "1999-02-02T10:00:00.000Z"


@pytest.mark.parametrize("ident", ["2101.99999", "not-an-id", "9999.9999v1"])
def test_unknown_papers_give_404_json(http: httpx.Client, ident: str) -> None:
    response = http.get(f"/api/papers/{ident}")
    assert response.status_code == 404
    assert ErrorBody.model_validate(response.json()).error.code == "not_found"
    assert http.get("/api/nothing/here").json()["error"]["code"] == "not_found"


def test_search_is_relevance_sorted_and_paginated(http: httpx.Client) -> None:
    record = next(r for r in SAMPLE if r["daily_date"] == LATEST)
    pasted = record["abstract"][:2000]
    entries = _entries(http.get("/api/papers/search", params={"q": pasted, "limit": 5}))
    assert entries[0].paper.id == record["arxiv_id"]
    first = _entries(http.get("/api/papers/search", params={"q": "learning", "limit": 3}))
    second = _entries(http.get("/api/papers/search", params={"q": "learning", "limit": 3, "p": 1}))
    assert len(first) == len(second) == 3
    assert not {e.paper.id for e in first} & {e.paper.id for e in second}
    assert (
        len(_entries(http.get("/api/papers/search", params={"q": "learning", "limit": 120}))) == 120
    )


def test_api_responses_validate_as_a_conditional_get(http: httpx.Client) -> None:
    first = http.get("/api/daily_papers", params={"date": HOSTILE_DAY})
    assert "max-age" in first.headers["cache-control"]
    again = http.get(
        "/api/daily_papers",
        params={"date": HOSTILE_DAY},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304


def _all_routes(routes: list[BaseRoute]) -> Iterator[Route]:
    """Every endpoint route, looking inside included routers (FastAPI wraps them since 0.16x)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _all_routes(included.routes)
        elif isinstance(route, Route):
            yield route
        else:
            assert isinstance(route, Mount), route


def test_every_route_is_in_openapi_or_a_deliberate_html_page(
    http: httpx.Client, live_server: LiveServer
) -> None:
    document = http.get("/openapi.json").json()
    documented = set(document["paths"])
    app = create_app(live_server.services)
    routes = list(_all_routes(app.routes))
    assert len(routes) > 15
    for route in routes:
        path = route.path
        if path in ("/openapi.json",):
            continue
        openapi_path = path.replace(":path}", "}")
        if path in HTML_ONLY:
            assert openapi_path not in documented, path
            continue
        assert openapi_path in documented, f"{path} is neither documented nor HTML-only"
        if isinstance(route, APIRoute) and (path.startswith("/api/") or path == "/healthz"):
            assert route.response_model is not None, f"{path} has no response model"
            for method in route.methods:
                _assert_json_operation(document, openapi_path, method.lower())


def _assert_json_operation(document: dict[str, Any], path: str, method: str) -> None:
    """A JSON operation declares its success body (a model), and the errors it can answer as
    the error body, with no undeclared 422 (validation errors are 400s here)."""
    responses = document["paths"][path][method]["responses"]
    success = [status for status in responses if status.startswith("2")]
    assert success, f"{method} {path} declares no 2xx"
    for status in success:
        schema = responses[status]["content"]["application/json"]["schema"]
        assert "$ref" in str(schema), f"{method} {path} {status} has no response model"
    assert "422" not in responses, f"{method} {path} documents FastAPI's 422"
    errors = {"400", "429", "503"} if path.startswith("/api/") else {"503"}
    assert errors <= set(responses), f"{method} {path} lacks {errors - set(responses)}"
    for status in errors:
        assert "ErrorBody" in str(responses[status]["content"]["application/json"]), status
    if "429" in responses:
        assert "Retry-After" in responses["429"]["headers"], f"{method} {path}"


def test_openapi_names_hf_fields(http: httpx.Client) -> None:
    schemas = http.get("/openapi.json").json()["components"]["schemas"]
    paper = schemas["HfPaper"]["properties"]
    for field in ("id", "authors", "publishedAt", "submittedOnDailyAt", "upvotes", "discussionId"):
        assert field in paper
    assert "_id" in schemas["HfAuthor"]["properties"]


@pytest.mark.postgres
def test_the_api_works_on_postgresql(pg_live_server: LiveServer) -> None:
    with pg_live_server.client() as client:
        entries = _entries(client.get("/api/daily_papers", params={"date": LATEST}))
        assert {e.paper.id for e in entries} == {
            r["arxiv_id"] for r in SAMPLE if r["daily_date"] == LATEST
        }
        assert _entries(client.get("/api/daily_papers", params={"week": "2026-W33"}))
        assert _entries(client.get("/api/daily_papers", params={"sort": "trending"}))
        paper = HfPaper.model_validate(client.get(f"/api/papers/{OLD_STYLE_ID}").json())
        assert paper.withdrawn_at is not None
        assert _entries(client.get("/api/papers/search", params={"q": "learning"}))
        assert client.get("/authors/Zo%C3%AB%20%C3%9Cn%C3%AFcode-Author").status_code == 200
        assert client.get("/api/daily_papers", params={"limit": "0"}).status_code == 400
        assert client.get("/trending").status_code == 200
        assert client.get(f"/papers/date/{HOSTILE_DAY}").status_code == 200
