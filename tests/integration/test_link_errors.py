"""Emailed links that cannot be used (expired, used, replaced, cut short, forged, huge) end at a
page that says what happened and offers the next step, through uvicorn on loopback (#16)."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest

from dailypapers import tokens
from dailypapers.digest import links
from dailypapers.store.migrate import upgrade
from tests.integration.community.support import csrf_in
from tests.integration.digest.support import add_confirmed
from tests.integration.web_server import TEST_SECRET, LiveServer, build_services, serve

PAST = datetime.now(UTC) - timedelta(days=8)
OTHER_SECRET = "not-the-site-secret-0123456789abcdef01234567"
# Every page an emailed link opens, and the form its refusal offers (action, next step's button).
LINK_PAGES = (
    ("/signin/confirm", "/signin", "Email me a new sign-in link"),
    ("/digest/confirm", "/digest/subscribe", "Subscribe again"),
    ("/digest/unsubscribe", "/signin", "Email me a link to my digest settings"),
    ("/digest/manage", "/signin", "Email me a link to my digest settings"),
    ("/digest/feedback", "/signin", "Email me a link to my digest settings"),
    ("/digest/view", "/signin", "Email me a link to my digest settings"),
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("link-errors")
    services = build_services(tmp / "data")
    upgrade(services.db)
    with serve(services) as server:
        yield server
    services.close()


@pytest.fixture
def client(site: LiveServer) -> Iterator[httpx.Client]:
    with site.client() as made:
        yield made


def _input_value(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert found, f"no {name} field on the page"
    return unescape(found.group(1))


def _broken(purpose: str) -> list[str]:
    """Malformed tokens of every kind for `purpose`: garbage, truncated, forged, huge."""
    genuine = tokens.sign_token(TEST_SECRET, purpose, {"s": 1, "v": 0}, expires_at=None)
    payload, _, signature = genuine.partition(".")
    return [
        "not-a-token",
        "",
        "..",
        "é.ü",
        genuine[: len(genuine) // 2],
        f"{payload}.{signature[:-4]}",
        f"{payload[:-3]}xyz.{signature}",
        tokens.sign_token(OTHER_SECRET, purpose, {"s": 1, "v": 0}, expires_at=None),
        "a" * 6_000 + "." + "b" * 100,
    ]


def test_an_expired_sign_in_link_says_so_and_emails_a_new_one_to_the_same_address(
    site: LiveServer, client: httpx.Client
) -> None:
    email = "late-reader@example.org"
    token = tokens.sign_token(
        TEST_SECRET, tokens.SIGN_IN, {"email": email, "next": "/trending"}, expires_at=PAST
    )
    page = client.get("/signin/confirm", params={"token": token})
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "This sign-in link has expired or was already used" in page.text
    assert 'action="/signin"' in page.text and "Email me a new sign-in link" in page.text
    assert _input_value(page.text, "email") == email
    assert _input_value(page.text, "next") == "/trending"
    # Pressing the confirm page's button after the link expired: the same page, not a bare 400.
    pressed = client.post("/signin/confirm", data={"token": token, "csrf": csrf_in(page.text)})
    assert pressed.status_code == 400
    assert "This sign-in link has expired or was already used" in pressed.text
    assert _input_value(pressed.text, "email") == email
    # The offered form works: a fresh link goes to the address the old one was sent to.
    again = client.post(
        "/signin",
        data={"email": email, "next": "/trending", "csrf": csrf_in(pressed.text)},
    )
    assert again.status_code == 200, again.text
    assert f"We sent a sign-in link to <strong>{email}</strong>" in again.text
    outbox = mailbox.Maildir(Path(site.services.site.data_dir) / "outbox", create=False)
    assert any(message["To"] == email for message in outbox)


def test_a_forged_sign_in_link_prefills_nothing_but_still_offers_a_new_one(
    client: httpx.Client,
) -> None:
    forged = tokens.sign_token(
        OTHER_SECRET,
        tokens.SIGN_IN,
        {"email": "victim@example.org", "next": "/"},
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )
    page = client.get("/signin/confirm", params={"token": forged})
    assert page.status_code == 400
    assert "This sign-in link does not work" in page.text
    assert "victim@example.org" not in page.text
    assert _input_value(page.text, "email") == ""
    assert "Email me a new sign-in link" in page.text


@pytest.mark.parametrize(("path", "action", "button"), LINK_PAGES)
def test_every_malformed_link_gets_a_4xx_page_with_the_next_step_and_never_a_500(
    client: httpx.Client, path: str, action: str, button: str
) -> None:
    purpose = {
        "/signin/confirm": tokens.SIGN_IN,
        "/digest/confirm": links.CONFIRM,
        "/digest/unsubscribe": links.UNSUBSCRIBE,
        "/digest/manage": links.MANAGE,
        "/digest/feedback": links.FEEDBACK,
        "/digest/view": links.VIEW,
    }[path]
    for token in _broken(purpose):
        page = client.get(path, params={"token": token, "kind": "up"})
        assert page.status_code == 400, (path, token[:40], page.status_code)
        assert page.headers["content-type"].startswith("text/html"), (path, token[:40])
        assert f'action="{action}"' in page.text, (path, token[:40])
        assert button in page.text, (path, token[:40])
        assert "Bad Request" not in page.text


def test_an_expired_digest_confirmation_link_offers_to_subscribe_the_same_address_again(
    client: httpx.Client,
) -> None:
    token = tokens.sign_token(
        TEST_SECRET, links.CONFIRM, {"s": 1, "e": "slow@example.org"}, expires_at=PAST
    )
    page = client.get("/digest/confirm", params={"token": token})
    assert page.status_code == 400
    assert "This confirmation link cannot be used" in page.text
    assert "This link has expired" in page.text
    assert 'action="/digest/subscribe"' in page.text
    assert 'value="slow@example.org"' in page.text


def test_a_replaced_manage_link_offers_a_link_to_the_digest_settings(
    site: LiveServer, client: httpx.Client
) -> None:
    sid = add_confirmed(site.services, "moved@example.org")
    stale = {"s": sid, "v": 99}  # the subscriber's token version has moved on since
    manage = tokens.sign_token(TEST_SECRET, links.MANAGE, stale, expires_at=None)
    unsubscribe = tokens.sign_token(TEST_SECRET, links.UNSUBSCRIBE, stale, expires_at=None)
    for page in (
        client.get("/digest/manage", params={"token": manage}),
        client.post("/digest/manage", data={"token": manage, "frequency": "daily"}),
        client.get("/digest/unsubscribe", params={"token": unsubscribe}),
        client.post("/digest/unsubscribe", params={"token": unsubscribe}),
    ):
        assert page.status_code == 400
        assert "This digest link no longer works" in page.text
        assert "replaced by a newer one" in page.text
        assert _input_value(page.text, "next") == "/account/digest"
        assert "Email me a link to my digest settings" in page.text
        # Whose subscription it was is not shown: it may since have moved to another address.
        assert "moved@example.org" not in page.text
        assert page.headers["referrer-policy"] == "no-referrer"


def test_a_broken_address_change_link_points_at_the_account_page(client: httpx.Client) -> None:
    page = client.get("/account/email/confirm", params={"token": "cut-short"})
    assert page.status_code == 400
    assert "This address-change link does not work" in page.text
    assert 'href="/account"' in page.text


def test_a_script_asking_for_json_still_gets_the_json_error(client: httpx.Client) -> None:
    answer = client.get(
        "/signin/confirm", params={"token": "x"}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
