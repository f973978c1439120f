"""Subscribing with double opt-in, and the emailed links: GET shows, POST acts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers import tokens
from dailypapers.digest import links
from dailypapers.services import Services
from dailypapers.store import subscribers as store
from dailypapers.store.schema import subscribers
from tests.integration.digest.support import ScriptedSink, link, token_of
from tests.integration.web_server import TEST_SECRET

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _row(services: Services, email: str) -> dict[str, object]:
    with services.db.read() as conn:
        row = conn.execute(select(subscribers).where(subscribers.c.email == email)).first()
    assert row is not None
    return dict(row._mapping)


def _subscribe(client: TestClient, email: str, frequency: str = "daily") -> str:
    page = client.post("/digest/subscribe", data={"email": email, "frequency": frequency})
    assert page.status_code == 200, page.text
    return page.text


def test_every_page_offers_the_subscribe_form(client: TestClient) -> None:
    for path in ("/", "/trending", "/search?q=transformer"):
        html = client.get(path).text
        assert "Get trending papers in your email inbox!" in html
        assert 'action="/digest/subscribe"' in html


def test_the_subscribe_pages_do_not_repeat_the_footer_form(client: TestClient) -> None:
    """The "check your inbox" page is the answer to the footer form: it must not offer it again."""
    html = _subscribe(client, "repeat@example.org")
    assert "Check your inbox" in html
    assert 'id="digest-email"' not in html


def test_opt_in_needs_the_confirm_button_and_records_consent(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    assert "Check your inbox" in _subscribe(client, "Ada@Example.org")
    mail = sink.wait_for("ada@example.org")
    assert _row(services, "ada@example.org")["status"] == "pending"
    confirm = link(mail.text, "/digest/confirm")
    page = client.get(confirm)
    assert page.status_code == 200 and "Confirm my subscription" in page.text
    assert _row(services, "ada@example.org")["status"] == "pending", "a GET changed state"
    csrf = unescape(_CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    done = client.post(
        "/digest/confirm",
        data={"csrf": csrf, "token": token_of(confirm)},
        headers={"x-forwarded-for": "ignored"},
    )
    assert done.status_code == 200 and "You are subscribed" in done.text
    row = _row(services, "ada@example.org")
    assert row["status"] == "confirmed"
    assert row["consent_at"] is not None and row["consent_ip"] == "testclient"


def test_resubscribing_a_confirmed_address_sends_nothing(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    from tests.integration.digest.support import add_confirmed

    add_confirmed(services, "bob@example.org")
    page = _subscribe(client, "bob@example.org")
    assert "Check your inbox" in page
    assert sink.to("bob@example.org") == []


def test_the_form_is_rate_limited_per_address(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    limit = services.digest.subscribe_per_hour_per_address
    for _ in range(limit):
        _subscribe(client, "flood@example.org")
    refused = client.post("/digest/subscribe", data={"email": "flood@example.org"})
    assert refused.status_code == 429
    assert len(sink.to("flood@example.org")) == limit


def test_a_forged_or_expired_opt_in_link_is_refused(
    client: TestClient, services: Services, sink: ScriptedSink
) -> None:
    _subscribe(client, "eve@example.org")
    sink.wait_for("eve@example.org")
    subscriber = _subscriber(services, "eve@example.org")
    forged = links.confirm_token(
        "another-secret-key-0123456789abcdef",
        subscriber,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    assert client.get(f"/digest/confirm?token={forged}").status_code == 400
    expired = links.confirm_token(
        TEST_SECRET, subscriber, expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    page = client.get(f"/digest/confirm?token={expired}")
    assert page.status_code == 400 and "expired" in page.text
    unsubscribe = links.long_lived(TEST_SECRET, links.UNSUBSCRIBE, subscriber)
    assert client.get(f"/digest/confirm?token={unsubscribe}").status_code == 400


def _subscriber(services: Services, email: str):  # type: ignore[no-untyped-def]
    with services.db.read() as conn:
        found = store.find_subscriber(conn, email)
    assert found is not None
    return found


def test_an_old_unsubscribe_link_works_until_the_token_version_rotates(
    client: TestClient, services: Services
) -> None:
    from tests.integration.digest.support import add_confirmed

    add_confirmed(services, "old@example.org")
    subscriber = _subscriber(services, "old@example.org")
    # Long-lived links carry no expiry: one minted months ago reads the same as today's.
    token = links.long_lived(TEST_SECRET, links.UNSUBSCRIBE, subscriber)
    claims = tokens.read_token(
        TEST_SECRET, links.UNSUBSCRIBE, token, now=datetime.now(UTC) + timedelta(days=400)
    )
    assert claims.expires_at is None
    page = client.get(f"/digest/unsubscribe?token={token}")
    assert page.status_code == 200 and _row(services, "old@example.org")["status"] == "confirmed"
    with services.db.write() as conn:
        store.rotate_token_version(conn, subscriber.id)
    assert client.post(f"/digest/unsubscribe?token={token}").status_code == 400
    assert _row(services, "old@example.org")["status"] == "confirmed"
    fresh = links.long_lived(
        TEST_SECRET, links.UNSUBSCRIBE, _subscriber(services, "old@example.org")
    )
    assert client.post(f"/digest/unsubscribe?token={fresh}").status_code == 200
    assert _row(services, "old@example.org")["status"] == "unsubscribed"


def test_a_get_on_manage_and_feedback_links_changes_nothing(
    client: TestClient, services: Services
) -> None:
    from tests.integration.digest.support import add_confirmed

    add_confirmed(services, "scan@example.org")
    subscriber = _subscriber(services, "scan@example.org")
    before = _row(services, "scan@example.org")
    manage = links.long_lived(TEST_SECRET, links.MANAGE, subscriber)
    feedback = links.long_lived(TEST_SECRET, links.FEEDBACK, subscriber, a="2608.19880")
    assert client.get(f"/digest/manage?token={manage}").status_code == 200
    assert client.get(f"/digest/feedback?token={feedback}&kind=mute").status_code == 200
    assert _row(services, "scan@example.org") == before
    with services.db.read() as conn:
        assert store.feedback_of(conn, subscriber.id) == []
    saved = client.post(
        "/digest/manage",
        data={"token": manage, "frequency": "daily", "keywords": "diffusion, robots"},
    )
    assert saved.status_code == 200 and "saved" in saved.text
    after = _subscriber(services, "scan@example.org")
    assert after.frequency == "daily" and after.preferences.keywords == ("diffusion", "robots")
    posted = client.post("/digest/feedback", data={"token": feedback, "kind": "mute"})
    assert posted.status_code == 200
    with services.db.read() as conn:
        assert [k for _, k, _ in store.feedback_of(conn, subscriber.id)] == ["mute"]
