"""Every route in the route table and every POST form the pages show, fed the hostile corpus:
each answer is a page or a clean 4xx, never a 500, never the payload reflected as live markup,
and nothing with a NUL or a half-written row lands in the store.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import String, Text, select

from dailypapers.store.schema import metadata
from tests.integration.community.support import csrf_of
from tests.integration.hostile.conftest import XSS_AUTHOR, XSS_ID, HostileRig
from tests.integration.hostile.corpus import (
    BAD_JSON,
    CONTROL,
    DEEP_JSON,
    DEEP_OBJECT,
    MEGABYTE,
    NUL,
    SQL_AND_FTS,
    XSS,
    unescaped,
)
from tests.integration.hostile.forms import Form, RouteInfo, post_forms, route_table

# Values for query parameters and form fields (the megabyte one is sent on its own below).
VALUES = (
    *XSS[:4],
    *SQL_AND_FTS[:2],
    *SQL_AND_FTS[4:8],
    NUL,
    CONTROL,
    "",
    "-1",
    "9" * 40,
    "☃" * 3000,
    "x" * 20_000,
    "²",
)
# Fewer values for names a route does not declare (most pages ignore them).
SHORT = (XSS[1], SQL_AND_FTS[4], NUL, "9" * 40, "x" * 20_000)
# Query names every GET route is also tried with: read from request.query_params by some pages.
COMMON_QUERY = ("q", "next", "token", "p", "format", "sort", "kind", "email")
# A real value for each path parameter, so the hostile one is the only thing wrong.
GOOD_PATH = {
    "arxiv_id": XSS_ID,
    "name": quote(XSS_AUTHOR, safe=""),
    "kind": "rss",
    "day": "2026-05-06",
    "week": "2026-W19",
    "month": "2026-05",
    "comment_id": "999999",  # the rig's victim comment is attacked through its edit page
    "token_id": "999999",
}
# Pages whose POST forms are collected; every POST route must be reached through one of them or
# be listed in FIELDS_WITHOUT_A_PAGE (token links, the JSON API).
FORM_PAGES = ("/", f"/papers/{XSS_ID}", "/account", "/submit", "/signin", "/saved-searches")
ADMIN_PAGES = ("/moderation",)
FIELDS_WITHOUT_A_PAGE: dict[str, tuple[str, ...]] = {
    "/signin": ("email", "next", "csrf"),
    "/signin/confirm": ("token", "csrf"),
    "/saved-searches/delete": ("id", "csrf"),
    "/account/email/confirm": ("token", "csrf"),
    "/digest/confirm": ("token", "csrf"),
    "/digest/unsubscribe": ("token",),
    "/digest/manage": ("token", "email", "frequency", "keywords", "authors", "categories"),
    "/digest/feedback": ("token", "kind"),
    "/account/tokens/{token_id}/revoke": ("csrf",),
    "/moderation/comments/{comment_id}/delete": ("csrf",),
    "/moderation/comments/{comment_id}/dismiss": ("csrf",),
}
# State-changing routes left out of the blind attack: they would end the session the attack runs
# in (their CRLF, token and CSRF cases are in test_tokens_and_redirects.py).
SPARED = {"/signout", "/account/delete", "/account/email"}


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if "html" in response.headers.get("content-type", ""):
        assert not unescaped(response.text), f"{what} reflected live markup"
    location = response.headers.get("location", "")
    assert not location or (location.startswith("/") and not location.startswith("//")), (
        f"{what} redirected off-site to {location!r}"
    )


def _routes(rig: HostileRig, method: str) -> list[RouteInfo]:
    return [
        r
        for r in route_table(rig.server.services)
        if r.method == method and r.path not in ("/openapi.json",)
    ]


@pytest.mark.slow
def test_every_get_route_answers_hostile_query_values_cleanly(hostile: HostileRig) -> None:
    client = hostile.reader
    routes = _routes(hostile, "GET")
    assert len(routes) > 30
    for route in routes:
        path = route.fill(GOOD_PATH)
        for name in sorted({*route.query, *COMMON_QUERY}):
            for value in VALUES if name in route.query else SHORT:
                _check(client.get(path, params={name: value}), f"GET {route.path} {name}=")
        # Bytes that are not UTF-8 once percent-decoded, and a parameter given twice.
        _check(client.get(path + "?q=%FF%FE&p=%C3%28&token=%ED%A0%80"), f"GET {route.path} bytes")
        _check(client.get(path + "?p=1&p=x&format=html&format=pdf"), f"GET {route.path} repeated")


@pytest.mark.slow
def test_every_path_parameter_takes_hostile_values(hostile: HostileRig) -> None:
    client = hostile.reader
    for route in _routes(hostile, "GET") + _routes(hostile, "POST"):
        for param in route.params():
            for value in (*VALUES[:-1], "..", "../../etc/passwd", "%2e%2e%2f", "%00"):
                values = dict(GOOD_PATH, **{param: quote(value, safe="") or "%20"})
                path = route.fill(values)
                response = client.request(route.method, path, data={"csrf": "x"})
                _check(response, f"{route.method} {route.path} {param}={value[:40]!r}")


def _forms(rig: HostileRig) -> list[tuple[httpx.Client, Form]]:
    found = []
    mine = (*FORM_PAGES, f"/comments/{rig.victim_comment}/edit")
    for client, pages in ((rig.reader, mine), (rig.admin, FORM_PAGES + ADMIN_PAGES)):
        for page in pages:
            html = client.get(page).text
            found.extend((client, form) for form in post_forms(html))
    return found


def _template_of(action: str, routes: list[RouteInfo]) -> str | None:
    import re

    path = action.split("?", 1)[0]
    for route in routes:
        pattern = "^" + re.sub(r"\\\{[a-z_]+(?::path)?\\\}", ".+", re.escape(route.path)) + "$"
        if re.match(pattern, path):
            return route.path
    return None


def test_every_post_form_and_route_answers_hostile_fields_cleanly(hostile: HostileRig) -> None:
    routes = _routes(hostile, "POST") + _routes(hostile, "DELETE")
    attacked: set[str] = set()
    for client, form in _forms(hostile):
        template = _template_of(form.action, routes)
        assert template is not None, f"a form posts to {form.action}, which is no route"
        if template in SPARED:
            attacked.add(template)
            continue
        for name in form.fields:
            if name == "csrf":
                continue
            for value in VALUES:
                data = dict(form.fields, **{name: value})
                response = client.post(form.action, data=data)
                _check(response, f"POST {form.action} {name}={value[:40]!r}")
        attacked.add(template)
    for route in routes:
        if route.path.startswith("/api/"):
            for value in VALUES:
                body = {"arxiv_id": value, "value": value}
                response = hostile.api.request(route.method, route.fill(GOOD_PATH), json=body)
                _check(response, f"{route.method} {route.path} json {value[:40]!r}")
                path = route.fill(dict(GOOD_PATH, arxiv_id=quote(value, safe="") or "%20"))
                _check(hostile.api.request(route.method, path), f"{route.method} {path[:60]}")
            attacked.add(route.path)
    for template, fields in FIELDS_WITHOUT_A_PAGE.items():
        route = next(r for r in routes if r.path == template)
        csrf = csrf_of(hostile.reader)
        for value in VALUES:
            data = {name: csrf if name == "csrf" else value for name in fields}
            response = hostile.reader.request(route.method, route.fill(GOOD_PATH), data=data)
            _check(response, f"{route.method} {template} = {value[:40]!r}")
        attacked.add(template)
    missed = {r.path for r in routes} - attacked
    assert not missed, f"POST routes no form or list reaches: {sorted(missed)}"


@pytest.mark.parametrize(
    "body", [DEEP_JSON, DEEP_OBJECT, *BAD_JSON, '{"arxiv_id": "' + MEGABYTE + '"}', "[]", "1"]
)
def test_json_bodies_that_are_malformed_deep_or_huge_get_a_4xx(
    hostile: HostileRig, body: str
) -> None:
    routes = [r for r in _routes(hostile, "POST") if r.path.startswith("/api/")]
    assert routes
    for route in routes:
        response = hostile.api.post(
            route.fill(GOOD_PATH), content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code < 500, (route.path, response.status_code)
        if route.path == "/api/papers/submit":  # the one that reads its body
            assert response.status_code in (400, 413), response.text
            assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"body=" + b"A" * (1024 * 1024)),
        ("application/x-www-form-urlencoded", b"body=d\xe9j\xe0&csrf=\xff"),
        ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 5000)),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
        ("text/plain", b"body=hello"),
    ],
)
def test_form_bodies_that_are_huge_or_broken_get_a_4xx(
    hostile: HostileRig, content_type: str, body: bytes
) -> None:
    response = hostile.reader.post(
        f"/papers/{XSS_ID}/comments", content=body, headers={"content-type": content_type}
    )
    assert 400 <= response.status_code < 500, response.status_code
    assert not unescaped(response.text)


def test_nothing_stored_holds_a_nul_or_a_raw_control_character(hostile: HostileRig) -> None:
    """Runs after the attacks above (same session store): no column kept what was refused."""
    bad = []
    with hostile.db.read() as conn:
        for table in metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in conn.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, str) and ("\x00" in value or "\x1b" in value):
                        bad.append(f"{table.name}.{column.name}")
    assert not bad, f"stored control characters in {sorted(set(bad))}"
