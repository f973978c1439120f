"""The strict Content-Security-Policy in Chromium: /docs (Swagger UI, served locally) renders
every operation and runs one, and the site's pages work, with no violation reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.web_server import HOSTILE_ID, LiveServer

pytestmark = pytest.mark.browser

# Records every CSP violation the page sees (the console shows them too, as errors).
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__violations.push(event.violatedDirective + ' ' + event.blockedURI);
});
"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_RECORD_VIOLATIONS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    opened.problems = problems
    yield opened
    context.close()


def _assert_no_violation(page: Any) -> None:
    assert page.evaluate("window.__violations") == []
    assert page.problems == []


def test_the_docs_render_and_run_operations_under_the_policy(
    page: Any, browser_server: LiveServer
) -> None:
    response = page.goto(browser_server.url + "/docs")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() >= 13
    health = page.locator(".opblock", has_text="/healthz").first
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    health.locator(".live-responses-table .response-col_status", has_text="200").wait_for(
        timeout=15_000
    )
    _assert_no_violation(page)


@pytest.mark.parametrize(
    "path", ["/", f"/papers/{HOSTILE_ID}", "/search?q=graph", "/signin", "/trending"]
)
def test_pages_raise_no_violation(page: Any, browser_server: LiveServer, path: str) -> None:
    page.goto(browser_server.url + path)
    page.wait_for_load_state("load")
    _assert_no_violation(page)
