"""A reader's journeys in a real browser: the day, the day before, a paper, an author, a search."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.web_server import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture(params=["light", "dark"])
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, color_scheme=request.param
    )
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.scheme = request.param
    yield opened
    context.close()
    assert not errors, errors


def _shot(page: Any, artifacts: Path, name: str, *, full: bool = False) -> None:
    page.screenshot(path=str(artifacts / f"{name}-{page.scheme}.png"), full_page=full)


def test_daily_page_then_the_day_before(
    page: Any, browser_server: LiveServer, artifacts: Path
) -> None:
    page.goto(browser_server.url + "/")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Daily Papers"
    day = page.locator(".period-nav .current time").get_attribute("datetime")
    cards = page.locator("ol.cards > li")
    assert cards.count() > 5
    _shot(page, artifacts, "01-daily")
    page.get_by_role("link", name=re.compile("Previous:")).click()
    page.wait_for_load_state()
    previous = page.locator(".period-nav .current time").get_attribute("datetime")
    assert previous < day
    assert page.url.endswith(f"/papers/date/{previous}")
    _shot(page, artifacts, "02-previous-day")


def test_open_a_paper_and_follow_an_author(
    page: Any, browser_server: LiveServer, artifacts: Path
) -> None:
    page.goto(browser_server.url + "/")
    first = page.locator("ol.cards > li h2 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == title
    assert page.locator("#bibtex").inner_text().startswith("@misc{")
    assert page.get_by_role("button", name="Copy BibTeX").is_visible()
    _shot(page, artifacts, "03-paper", full=True)
    author = page.locator("ul.authors a").first
    name = author.inner_text()
    author.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == name
    assert page.get_by_role("link", name=title).count() >= 1
    _shot(page, artifacts, "04-author")


def test_search_box(page: Any, browser_server: LiveServer, artifacts: Path) -> None:
    page.goto(browser_server.url + "/trending")
    _shot(page, artifacts, "05-trending")
    box = page.get_by_role("searchbox", name="Search papers")
    box.fill("diffusion")
    box.press("Enter")
    page.wait_for_load_state()
    assert "/search?q=diffusion" in page.url
    assert page.locator("ol.cards > li").count() > 0
    _shot(page, artifacts, "06-search")


def test_keyboard_reaches_the_search_box_and_cards(page: Any, browser_server: LiveServer) -> None:
    page.goto(browser_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    focused = set()
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.add(
            page.evaluate(
                "document.activeElement.tagName + ':' + (document.activeElement.id || '')"
            )
        )
    assert "INPUT:site-search" in focused


def test_small_screens_do_not_scroll_sideways(
    browser: Any, browser_server: LiveServer, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True)
    page = context.new_page()
    for path, name in (("/", "07-mobile-daily"), ("/papers/hep-th/9901001", "08-mobile-paper")):
        page.goto(browser_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px too wide"
        page.screenshot(path=str(artifacts / f"{name}.png"))
    context.close()


def test_api_docs_render_offline(page: Any, browser_server: LiveServer, artifacts: Path) -> None:
    page.goto(browser_server.url + "/docs")
    page.get_by_text("/api/daily_papers", exact=True).first.wait_for(timeout=15_000)
    _shot(page, artifacts, "09-docs")
