"""Forged, expired, replayed and misdirected tokens on every token-taking route; CSRF tokens that
are missing, foreign, expired or forged; open redirects through every return URL; CR/LF in the
addresses and names that reach mail headers. Each gets a clean 4xx and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers import tokens
from dailypapers.digest import links
from dailypapers.store import subscribers as store
from dailypapers.store.schema import comments, subscribers
from tests.integration.community.support import (
    csrf_in,
    csrf_of,
    link_path,
    new_email,
    token_of,
)
from tests.integration.digest.support import add_confirmed
from tests.integration.hostile.conftest import XSS_ID, HostileRig
from tests.integration.hostile.corpus import (
    BROKEN_TOKENS,
    CRLF_ADDRESSES,
    CRLF_NAMES,
    OPEN_REDIRECTS,
    unescaped,
)
from tests.integration.web_server import TEST_SECRET

NOW = datetime.now(UTC)
PAST = NOW - timedelta(days=30)
OTHER_SECRET = "an-attacker-guessed-secret-0123456789abcdef"
# Every route that takes a token: GET shows a page, POST acts. (method, path, purpose)
TOKEN_ROUTES = (
    ("GET", "/signin/confirm", tokens.SIGN_IN),
    ("POST", "/signin/confirm", tokens.SIGN_IN),
    ("GET", "/account/email/confirm", tokens.EMAIL_CHANGE),
    ("POST", "/account/email/confirm", tokens.EMAIL_CHANGE),
    ("GET", "/digest/confirm", links.CONFIRM),
    ("POST", "/digest/confirm", links.CONFIRM),
    ("GET", "/digest/unsubscribe", links.UNSUBSCRIBE),
    ("POST", "/digest/unsubscribe", links.UNSUBSCRIBE),
    ("GET", "/digest/manage", links.MANAGE),
    ("POST", "/digest/manage", links.MANAGE),
    ("GET", "/digest/feedback", links.FEEDBACK),
    ("POST", "/digest/feedback", links.FEEDBACK),
    ("GET", "/digest/view", links.VIEW),
)


def _status(rig: HostileRig, email: str) -> tuple[str, int]:
    with rig.db.read() as conn:
        row = conn.execute(
            select(subscribers.c.status, subscribers.c.token_version).where(
                subscribers.c.email == email
            )
        ).one()
    return str(row.status), int(row.token_version)


def _bad_tokens(rig: HostileRig, purpose: str, sid: int, email: str) -> list[str]:
    data: dict[str, object] = {"s": sid, "v": 0, "e": email, "email": email, "next": "/"}
    data.update({"p": XSS_ID, "k": "up", "period": "2026-W19"})
    wrong_purpose = links.MANAGE if purpose != links.MANAGE else links.UNSUBSCRIBE
    return [
        *BROKEN_TOKENS,
        tokens.sign_token(OTHER_SECRET, purpose, data, expires_at=NOW + timedelta(hours=1)),
        tokens.sign_token(TEST_SECRET, purpose, data, expires_at=PAST),
        tokens.sign_token(TEST_SECRET, wrong_purpose, data, expires_at=None),
        tokens.sign_token(TEST_SECRET, tokens.CSRF, {"b": "x"}, expires_at=None),
        tokens.sign_token(TEST_SECRET, purpose, {"s": "1 OR 1=1", "v": "0"}, expires_at=None),
        tokens.sign_token(TEST_SECRET, purpose, {"s": 2**80, "v": 0}, expires_at=None),
        tokens.sign_token(TEST_SECRET, purpose, {"s": sid, "v": 99}, expires_at=None),
        tokens.sign_token(TEST_SECRET, purpose, {"s": 10**9, "v": 0}, expires_at=None),
    ]


@pytest.mark.parametrize(("method", "path", "purpose"), TOKEN_ROUTES)
def test_forged_expired_and_misdirected_tokens_get_a_4xx_and_change_nothing(
    hostile: HostileRig, method: str, path: str, purpose: str
) -> None:
    email = new_email("tokens")
    sid = add_confirmed(hostile.server.services, email, frequency="daily")
    client = hostile.anonymous()
    csrf = csrf_in(client.get("/signin").text)
    before = _status(hostile, email)
    for token in _bad_tokens(hostile, purpose, sid, email):
        if method == "GET":
            response = client.get(path, params={"token": token, "kind": "up"})
        else:
            data = {"token": token, "csrf": csrf, "kind": "mute", "frequency": "weekly"}
            response = client.post(path, data=data)
        assert 400 <= response.status_code < 500, (path, token[:60], response.status_code)
        assert not unescaped(response.text)
        assert "dp_session" not in response.cookies
    assert _status(hostile, email) == before


def test_a_sign_in_link_works_once(hostile: HostileRig) -> None:
    client = hostile.anonymous()
    link = hostile.community.request_link(client, new_email("once"))
    assert hostile.community.follow_link(client, link).status_code == 303
    again = hostile.anonymous()
    page = again.get(link_path(link))
    assert page.status_code == 400 and "already used" in page.text
    replay = again.post(
        "/signin/confirm", data={"token": token_of(link), "csrf": csrf_of(again, "/signin")}
    )
    assert replay.status_code == 400 and "dp_session" not in again.cookies


def test_a_replayed_opt_in_link_does_not_resubscribe_after_unsubscribing(
    hostile: HostileRig,
) -> None:
    email = new_email("opt-in")
    client = hostile.anonymous()
    client.post("/digest/subscribe", data={"email": email, "frequency": "daily"})
    confirm = next(
        u for u in hostile.community.sink.wait_for(email).links() if "/digest/confirm" in u
    )
    page = client.get(link_path(confirm))
    done = client.post(
        "/digest/confirm", data={"token": token_of(confirm), "csrf": csrf_in(page.text)}
    )
    assert done.status_code == 200 and _status(hostile, email)[0] == "confirmed"
    with hostile.db.read() as conn:
        subscriber = store.find_subscriber(conn, email)
    assert subscriber is not None
    unsubscribe = links.long_lived(TEST_SECRET, links.UNSUBSCRIBE, subscriber)
    assert client.post("/digest/unsubscribe", params={"token": unsubscribe}).status_code == 200
    assert _status(hostile, email)[0] == "unsubscribed"
    replay = client.post(
        "/digest/confirm", data={"token": token_of(confirm), "csrf": csrf_in(page.text)}
    )
    assert replay.status_code == 400, replay.text
    assert _status(hostile, email)[0] == "unsubscribed"


def test_csrf_tokens_that_are_missing_foreign_expired_or_forged_are_refused(
    hostile: HostileRig,
) -> None:
    reader = hostile.reader
    session_key = "not-this-session"
    foreign = csrf_of(hostile.admin)
    bad = [
        "",
        foreign,  # issued to another browser
        tokens.csrf_token(TEST_SECRET, session_key, expires_at=NOW + timedelta(hours=1)),
        tokens.sign_token(OTHER_SECRET, tokens.CSRF, {"b": "x"}, expires_at=None),
        tokens.sign_token(TEST_SECRET, tokens.SIGN_IN, {"b": "x"}, expires_at=None),
        *BROKEN_TOKENS,
    ]
    with hostile.db.read() as conn:
        before = conn.execute(select(func.count()).select_from(comments)).scalar_one()
    for csrf in bad:
        for path, data in (
            (f"/papers/{XSS_ID}/comments", {"body": "forged comment"}),
            ("/account/profile", {"username": "hijacked", "display_name": "x"}),
            ("/account/delete", {"confirm": "anything"}),
            (f"/papers/{XSS_ID}/upvote", {"value": "1"}),
        ):
            response = reader.post(path, data={**data, "csrf": csrf})
            expected = 400 if "\x00" in csrf else 403  # a NUL is refused before any check
            assert response.status_code == expected, (path, csrf[:40], response.status_code)
    with hostile.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(comments)).scalar_one() == before
    assert reader.get("/account").status_code == 200  # still signed in, account intact


def _location(response: httpx.Response) -> str:
    return response.headers.get("location", "")


def _is_local(location: str) -> bool:
    return location.startswith("/") and not location.startswith(("//", "/\\"))


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_return_urls_never_leave_the_site(hostile: HostileRig, target: str) -> None:
    client = hostile.anonymous()
    # 1. ?next= on the sign-in page, carried through the emailed link to the final redirect.
    page = client.get("/signin", params={"next": target})
    assert page.status_code == 200 and not unescaped(page.text)
    email = new_email("redirect")
    sent = client.post("/signin", data={"email": email, "csrf": csrf_in(page.text), "next": target})
    if "\x00" in target:
        assert sent.status_code == 400  # refused with the form, before any link is made
        return
    assert sent.status_code == 200
    [link] = [u for u in hostile.community.sink.wait_for(email).links() if "/signin/confirm" in u]
    done = hostile.community.follow_link(client, link)
    assert done.status_code == 303 and _is_local(_location(done)), _location(done)
    # 2. A form posted with a Referer naming the target (returns go "back where you were").
    csrf = csrf_of(client, f"/papers/{XSS_ID}")
    for referer in (target, "https://evil.example/x", f"http://evil.example{target}"):
        response = client.post(
            f"/papers/{XSS_ID}/upvote",
            data={"csrf": csrf, "value": "1"},
            headers={"referer": "".join(ch for ch in referer if ch >= " ").strip()},
        )
        assert response.status_code == 303 and _is_local(_location(response)), _location(response)
    # 3. A signed-out form post is sent to sign in, with a return path that must stay local.
    anonymous = hostile.anonymous()
    signed_out = anonymous.post(
        f"/papers/{XSS_ID}/upvote", data={"value": "1"}, headers={"referer": "//evil.example"}
    )
    assert signed_out.status_code in (303, 403), signed_out.status_code
    assert not _location(signed_out) or _is_local(_location(signed_out))


@pytest.mark.parametrize("address", CRLF_ADDRESSES)
def test_crlf_in_addresses_is_refused_and_nothing_is_mailed_or_stored(
    hostile: HostileRig, address: str
) -> None:
    client = hostile.anonymous()
    sink = hostile.community.sink
    before = len(sink.messages)
    subscribed = client.post("/digest/subscribe", data={"email": address, "frequency": "daily"})
    assert subscribed.status_code == 400, subscribed.status_code
    signin = client.post("/signin", data={"email": address, "csrf": csrf_of(client, "/signin")})
    assert signin.status_code == 400, signin.status_code
    change = hostile.reader.post(
        "/account/email", data={"email": address, "csrf": csrf_of(hostile.reader)}
    )
    assert change.status_code == 400, change.status_code
    assert len(sink.messages) == before
    for received in sink.messages:
        assert "everyone@example.org" not in received.rcpt_tos
    with hostile.db.read() as conn:
        emails = conn.execute(select(subscribers.c.email)).scalars().all()
    assert not [e for e in emails if "\n" in e or "\r" in e or "bcc:" in e.lower()]


@pytest.mark.parametrize("name", CRLF_NAMES)
def test_crlf_in_display_names_is_refused(hostile: HostileRig, name: str) -> None:
    reader = hostile.reader
    response = reader.post(
        "/account/profile",
        data={"csrf": csrf_of(reader), "username": "reader-name", "display_name": name},
    )
    if "\r" in name or "\n" in name:
        assert response.status_code == 400, response.status_code
    else:  # an encoded-word is just text: stored and shown as typed, never decoded into a header
        assert response.status_code in (200, 303)
