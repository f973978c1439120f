"""A newcomer's journey in Chromium: sign in through the emailed link (read from a real SMTP
server on loopback), upvote, submit a paper fetched from (replayed) arXiv, comment, sign out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.community.support import (
    Community,
    community_settings,
    link_path,
    new_email,
    respond,
)
from tests.integration.replay_server import ReplayServer
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import build_services, populate, sample_hf, serve

pytestmark = pytest.mark.browser
# Each color scheme submits its own paper (both are real arXiv API captures).
SUBMISSIONS = {"light": "1707.08567", "dark": "2104.12255"}
SAMPLE_DAY = max(record["daily_date"] for record in sample_hf())


@pytest.fixture(scope="module")
def journey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Community]:
    tmp = tmp_path_factory.mktemp("journey")
    with SmtpSink() as sink, ReplayServer(respond) as arxiv:
        services = build_services(tmp / "data", **community_settings(sink, arxiv))
        populate(services, tmp)
        with serve(services) as server:
            yield Community(server, sink, arxiv)
        services.close()


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _page(browser: Any, scheme: str, width: int = 1280) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, is_mobile=width < 500
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def _sign_in(page: Any, community: Community, email: str, artifacts: Path, name: str) -> None:
    page.get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Email address").fill(email)
    page.screenshot(path=str(artifacts / f"20-signin-{name}.png"))
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    [link] = [u for u in community.sink.wait_for(email).links() if "/signin/confirm" in u]
    page.goto(community.server.url + link_path(link))
    page.screenshot(path=str(artifacts / f"21-signin-confirm-{name}.png"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_sign_in_upvote_submit_comment_and_sign_out(
    browser: Any, journey_server: Community, artifacts: Path, scheme: str
) -> None:
    community = journey_server
    context, page, errors = _page(browser, scheme)
    page.goto(community.server.url + "/")
    _sign_in(page, community, new_email(scheme), artifacts, scheme)
    me = page.locator("a.me")
    assert me.inner_text().startswith("@reader-")

    page.goto(f"{community.server.url}/papers/date/{SAMPLE_DAY}")  # today may hold a submission
    card = page.locator("ol.cards > li").nth(2 if scheme == "light" else 3)
    button = card.locator("form[data-vote] button")
    before = int(button.locator(".count").inner_text())
    assert button.get_attribute("aria-pressed") == "false"
    button.click()
    page.wait_for_function(
        "([el, n]) => el.textContent === String(n)",
        arg=[button.locator(".count").element_handle(), before + 1],
    )
    assert button.get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(artifacts / f"22-upvoted-{scheme}.png"))
    page.reload()
    assert int(card.locator(".count").inner_text()) == before + 1  # not a stale cached list

    page.get_by_role("link", name="Submit").click()
    page.get_by_label("arXiv id or link").fill(f"https://arxiv.org/abs/{SUBMISSIONS[scheme]}")
    page.screenshot(path=str(artifacts / f"23-submit-{scheme}.png"))
    page.get_by_role("button", name="Submit").last.click()
    page.wait_for_url(re.compile(f"/papers/{re.escape(SUBMISSIONS[scheme])}$"))
    assert "submitted by" in page.locator(".paper-side").inner_text()

    page.get_by_label("Add a comment").fill("Nice result, **worth** reading. <script>x</script>")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_load_state()
    body = page.locator(".comment-body").last
    assert body.inner_text().startswith("Nice result, worth reading.")
    assert body.locator("strong").inner_text() == "worth"
    page.screenshot(path=str(artifacts / f"24-paper-with-comment-{scheme}.png"), full_page=True)

    me.click()
    page.get_by_role("heading", name=re.compile("Your upvotes")).wait_for()
    page.screenshot(path=str(artifacts / f"25-account-{scheme}.png"), full_page=True)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Sign in", exact=True).count() == 1
    assert page.locator("a.me").count() == 0
    context.close()
    assert not errors, errors


def test_community_pages_fit_a_small_screen(
    browser: Any, journey_server: Community, artifacts: Path
) -> None:
    context, page, errors = _page(browser, "light", width=360)
    page.goto(journey_server.server.url + "/")
    _sign_in(page, journey_server, new_email("mobile"), artifacts, "mobile")
    for path, name in (
        ("/account", "26-mobile-account"),
        ("/submit", "27-mobile-submit"),
        ("/papers/2605.00001", "28-mobile-paper"),
    ):
        page.goto(journey_server.server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide"
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    context.close()
    assert not errors, errors
