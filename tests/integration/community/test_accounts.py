"""Sign-in by emailed link, sessions and accounts, through uvicorn and a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dailypapers import tokens
from dailypapers.store.schema import users
from tests.integration.community.support import (
    Community,
    csrf_in,
    csrf_of,
    link_path,
    new_email,
    token_of,
)
from tests.integration.web_server import TEST_SECRET


def test_the_emailed_link_signs_in_creates_the_account_and_works_once(
    community: Community,
) -> None:
    email = new_email("first")
    client = community.client()
    link = community.request_link(client, email, next_path="/trending")
    mail = community.sink.to(email)[-1]
    assert mail.message["From"] == "Papers <noreply@example.org>"
    assert "15 minutes" in mail.text
    done = community.follow_link(client, link)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/trending"
    account = client.get("/account")
    assert account.status_code == 200
    assert email in account.text
    assert account.headers["cache-control"] == "private, no-cache"
    other = community.client()
    page = other.get(link_path(link))
    assert page.status_code == 400
    assert "already used" in page.text
    csrf = csrf_in(other.get("/signin").text)
    again = other.post("/signin/confirm", data={"token": token_of(link), "csrf": csrf})
    assert again.status_code == 400
    assert "already used" in again.text
    assert "dp_session" not in other.cookies


def test_a_get_on_the_sign_in_link_leaves_it_unused(community: Community) -> None:
    email = new_email("scanned")
    scanner = community.client()
    link = community.request_link(scanner, email)
    for _ in range(3):  # a mail scanner opens the link, maybe several times
        page = scanner.get(link_path(link))
        assert page.status_code == 200
        assert "dp_session" not in scanner.cookies
    person = community.client()
    assert community.follow_link(person, link).status_code == 303
    assert person.get("/account").status_code == 200


def test_an_expired_link_is_refused(community: Community) -> None:
    email = new_email("late")
    past = datetime.now(UTC) - timedelta(minutes=16)
    token = tokens.sign_token(
        TEST_SECRET, tokens.SIGN_IN, {"email": email, "next": "/"}, expires_at=past
    )
    client = community.client()
    page = client.get("/signin/confirm", params={"token": token})
    assert page.status_code == 400
    assert "expired" in page.text
    csrf = csrf_in(client.get("/signin").text)
    used = client.post("/signin/confirm", data={"token": token, "csrf": csrf})
    assert used.status_code == 400
    assert "dp_session" not in client.cookies


def test_a_forged_or_altered_link_is_refused(community: Community) -> None:
    email = new_email("forger")
    soon = datetime.now(UTC) + timedelta(minutes=10)
    forged = tokens.sign_token(
        "another-secret-0123456789abcdef0123456789",
        tokens.SIGN_IN,
        {"email": email},
        expires_at=soon,
    )
    client = community.client()
    real = token_of(community.request_link(client, new_email("victim")))
    payload, _, signature = real.partition(".")
    altered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature
    csrf_token = tokens.csrf_token(TEST_SECRET, "anything", expires_at=soon)
    for token in (forged, altered, csrf_token, "not-a-token", "a" * 5000):
        page = client.get("/signin/confirm", params={"token": token[:4096]})
        assert page.status_code == 400, token
        csrf = csrf_in(client.get("/signin").text)
        assert client.post("/signin/confirm", data={"token": token, "csrf": csrf}).status_code in (
            400,
            413,
        )
    assert "dp_session" not in client.cookies


def test_a_form_post_without_its_csrf_token_is_refused(community: Community) -> None:
    client = community.sign_in()
    paper = "2605.00001"
    no_token = client.post(f"/papers/{paper}/upvote", data={"value": "1"})
    assert no_token.status_code == 403
    wrong = client.post(f"/papers/{paper}/upvote", data={"value": "1", "csrf": "x.y"})
    assert wrong.status_code == 403
    stranger = community.sign_in()  # another user's token does not fit this session
    theirs = csrf_of(stranger)
    assert client.post(f"/papers/{paper}/upvote", data={"csrf": theirs}).status_code == 403
    anonymous = community.client()
    signin = anonymous.post("/signin", data={"email": new_email()})
    assert signin.status_code == 403
    assert client.post("/signout", data={}).status_code == 403
    assert client.get("/account").status_code == 200


def test_session_cookies_are_httponly_lax_and_secure_only_over_https(
    community: Community,
) -> None:
    client = community.client()
    done = community.follow_link(client, community.request_link(client, new_email()))
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    # Behind a TLS proxy (uvicorn trusts X-Forwarded-Proto from loopback) cookies are Secure;
    # httpx keeps Secure cookies off plain http, so the anonymous one is carried by hand.
    behind_tls = community.client(**{"X-Forwarded-Proto": "https"})
    form = behind_tls.get("/signin")
    assert "; secure" in form.headers["set-cookie"].lower()
    anonymous_key = form.cookies["dp_anon"]
    behind_tls.cookies.clear()
    behind_tls.cookies.set("dp_anon", anonymous_key)
    done = community.follow_link(behind_tls, community.request_link(behind_tls, new_email()))
    assert done.status_code == 303
    session_cookie = done.headers["set-cookie"].lower()
    assert session_cookie.startswith("dp_session=") and "; secure" in session_cookie


def test_sign_in_brings_you_back_but_never_off_site(community: Community) -> None:
    for wanted, landed in [
        ("/papers/2605.00001", "/papers/2605.00001"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
    ]:
        client = community.client()
        done = community.follow_link(client, community.request_link(client, new_email(), wanted))
        assert done.headers["location"] == landed


def test_sign_in_requests_over_the_per_address_limit_are_refused_with_a_message(
    community: Community,
) -> None:
    email = new_email("flood")
    client = community.client()
    for _ in range(5):
        community.request_link(client, email)
    csrf = csrf_in(client.get("/signin").text)
    refused = client.post("/signin", data={"email": email, "csrf": csrf})
    assert refused.status_code == 429
    assert "Too many sign-in links for this address" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert len(community.sink.to(email)) == 5


def test_hostile_addresses_and_bodies_are_refused_cleanly(community: Community) -> None:
    client = community.client()
    csrf = csrf_in(client.get("/signin").text)
    for bad in ["a@b.org\r\nBcc: all@example.org", "not an address", "x" * 300 + "@b.org", ""]:
        refused = client.post("/signin", data={"email": bad, "csrf": csrf})
        assert refused.status_code == 400, bad
        assert "valid email address" in refused.text or "line breaks" in refused.text
    huge = client.post(
        "/signin",
        content=b"email=" + b"a" * 300_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413
    binary = client.post(
        "/signin",
        content=b"\xff\xfe\x00",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert binary.status_code == 400


def test_profile_email_change_and_sign_out(community: Community) -> None:
    email = new_email("moving")
    client = community.sign_in(email)
    csrf = csrf_of(client)
    name = "ada-" + email[7:13]
    saved = client.post(
        "/account/profile", data={"csrf": csrf, "username": name, "display_name": "Ada L."}
    )
    assert saved.status_code == 303
    page = client.get("/account").text
    assert f"@{name}" in page and "Ada L." in page
    bad = client.post(
        "/account/profile", data={"csrf": csrf, "username": name, "display_name": "A\r\nB"}
    )
    assert bad.status_code == 400
    new = new_email("moved")
    sent = client.post("/account/email", data={"csrf": csrf, "email": new})
    assert sent.status_code == 303
    [link] = [u for u in community.sink.wait_for(new).links() if "/account/email/confirm" in u]
    confirm = client.get(link_path(link))
    assert confirm.status_code == 200 and new in confirm.text
    assert client.get("/account").text.count(email) == 1  # unchanged until the button is pressed
    done = client.post(
        "/account/email/confirm", data={"token": token_of(link), "csrf": csrf_in(confirm.text)}
    )
    assert done.status_code == 200
    assert new in client.get("/account").text
    with community.db.read() as conn:
        assert conn.execute(select(users.c.id).where(users.c.email == email)).first() is None
    out = client.post("/signout", data={"csrf": csrf})
    assert out.status_code == 303
    assert client.get("/account").status_code == 303
