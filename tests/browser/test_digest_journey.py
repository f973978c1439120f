"""A reader's digest journey in Chromium: subscribe from the footer form, confirm through the
link in the mail a real SMTP server on loopback captured, open the digest in the browser,
unsubscribe with the mail's link.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dailypapers.store.schema import subscribers
from tests.integration.community.support import link_path, new_email
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import LiveServer, build_services, populate, serve

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def digest_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, SmtpSink]]:
    tmp = tmp_path_factory.mktemp("digest-journey")
    with SmtpSink() as sink:
        services = build_services(tmp / "data", smtp_url=sink.url)
        populate(services, tmp)
        with serve(services) as server:
            yield server, sink
        services.close()


def _link(text: str, path: str) -> str:
    return next(link_path(u) for u in text.split() if u.startswith("http") and path in u)


def _status(server: LiveServer, email: str) -> str:
    with server.services.db.read() as conn:
        return str(
            conn.execute(
                select(subscribers.c.status).where(subscribers.c.email == email)
            ).scalar_one()
        )


def test_subscribe_confirm_view_and_unsubscribe_in_chromium(
    browser: Any, digest_server: tuple[LiveServer, SmtpSink], artifacts: Path
) -> None:
    server, sink = digest_server
    email = new_email("digest")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_label("Your email, for the digest").fill(email)
    page.get_by_label("How often").select_option("weekly")
    page.get_by_role("button", name="Subscribe").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.screenshot(path=str(artifacts / "digest-subscribed.png"))

    confirm = _link(sink.wait_for(email).text, "/digest/confirm")
    page.goto(server.url + confirm)
    assert _status(server, email) == "pending", "opening the link changed nothing"
    page.get_by_role("button", name="Confirm my subscription").click()
    page.get_by_role("heading", name="You are subscribed").wait_for()
    assert _status(server, email) == "confirmed"

    services = server.services
    services.digest_sender().run("weekly", datetime.now(UTC).date())
    digest = sink.wait_for(email, count=2)
    page.goto(server.url + _link(digest.text, "/digest/view"))
    page.get_by_text("Why: Trending").first.wait_for()
    page.screenshot(path=str(artifacts / "digest-view.png"))

    page.goto(server.url + _link(digest.text, "/digest/unsubscribe"))
    assert _status(server, email) == "confirmed"
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="Unsubscribed").wait_for()
    assert _status(server, email) == "unsubscribed"
    context.close()
