"""Saved searches: "Save this search" for signed-in readers, the manage page's list for
subscribers without an account, and the account page's way to its digest settings."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient

from dailypapers.community import saved_searches as saved
from dailypapers.digest import links
from dailypapers.services import Services
from dailypapers.store import subscribers as store
from tests.integration.digest.support import ScriptedSink, add_confirmed, link
from tests.integration.web_server import TEST_SECRET

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return unescape(found.group(1))


def _sign_in(client: TestClient, sink: ScriptedSink, email: str) -> None:
    page = client.get("/signin")
    client.post("/signin", data={"csrf": _csrf(page.text), "email": email, "next": "/"})
    confirm = link(sink.wait_for(email).text, "/signin/confirm")
    page = client.get(confirm)
    token = confirm.split("token=", 1)[1]
    client.post("/signin/confirm", data={"csrf": _csrf(page.text), "token": token})


def test_a_signed_in_reader_saves_the_search_they_are_looking_at(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    _sign_in(client, sink, "searcher@example.org")
    page = client.get("/search?q=diffusion")
    assert "Save this search" in page.text
    saved_page = client.post("/saved-searches", data={"csrf": _csrf(page.text), "q": "diffusion"})
    assert saved_page.status_code == 200 and "Saved “diffusion”" in saved_page.text
    listed = client.get("/saved-searches").text
    assert "diffusion" in listed
    blank = client.post("/saved-searches", data={"csrf": _csrf(listed), "q": "   "})
    assert blank.status_code == 400
    assert "No digest yet" in client.get("/account/digest").text
    add_confirmed(services, "searcher@example.org")
    settings = client.get("/account/digest")
    assert settings.url.path == "/digest/manage" and "searcher@example.org" in settings.text


def test_a_subscriber_without_an_account_keeps_saved_searches_on_the_manage_page(
    client: TestClient, services: Services
) -> None:
    sid = add_confirmed(services, "anon@example.org")
    with services.db.read() as conn:
        subscriber = store.get_subscriber(conn, sid)
    token = links.long_lived(TEST_SECRET, links.MANAGE, subscriber)
    posted = client.post(
        "/digest/manage",
        data={"token": token, "frequency": "weekly", "saved_searches": "ti:agents\nrobot arms\n"},
    )
    assert posted.status_code == 200
    assert [q for _, q in saved.list_saved(services.db, subscriber_id=sid)] == [
        "ti:agents",
        "robot arms",
    ]
    assert "robot arms" in client.get(f"/digest/manage?token={token}").text


def test_a_new_address_from_the_manage_page_must_opt_in_and_old_links_stop_working(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    sid = add_confirmed(services, "before@example.org")
    with services.db.read() as conn:
        subscriber = store.get_subscriber(conn, sid)
    token = links.long_lived(TEST_SECRET, links.MANAGE, subscriber)
    moved = client.post(
        "/digest/manage",
        data={"token": token, "frequency": "weekly", "email": "after@example.org"},
    )
    assert moved.status_code == 200 and "Confirm your new address" in moved.text
    with services.db.read() as conn:
        after = store.get_subscriber(conn, sid)
    assert (after.email, after.status) == ("after@example.org", "pending")
    assert "/digest/confirm" in sink.wait_for("after@example.org").text
    assert client.get(f"/digest/manage?token={token}").status_code == 400
