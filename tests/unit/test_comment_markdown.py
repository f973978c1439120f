"""Comment markdown renders safely: no raw HTML, no script URLs, links marked as user content."""

from __future__ import annotations

import pytest

from dailypapers.community.markdown import render_comment
from dailypapers.community.validation import check_link, normalise_email
from dailypapers.errors import InvalidRequest


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox)",
        "<a href='javascript:alert(1)'>x</a>",
        "<img src=x onerror=alert(1)>",
        "<javascript:alert(1)>",
    ],
)
def test_hostile_markdown_renders_inert(body: str) -> None:
    html = render_comment(body)
    assert "<script" not in html and "<img" not in html and "<a href='" not in html
    assert 'href="javascript' not in html.lower() and 'href="data' not in html.lower()
    assert 'href="vbscript' not in html.lower()


def test_ordinary_markdown_renders_with_safe_links() -> None:
    html = render_comment("**bold** `code` [paper](https://arxiv.org/abs/2406.1) [here](/papers/1)")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert '<a href="https://arxiv.org/abs/2406.1" rel="nofollow ugc noopener">paper</a>' in html
    assert '<a href="/papers/1" rel="nofollow ugc noopener">here</a>' in html


@pytest.mark.parametrize(
    "raw", ["a@b.org\r\nBcc: x@y.org", "a@b.org\n", "no-at-sign", "a@b", "a b@c.org", "a@@b.org"]
)
def test_strange_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        normalise_email(raw)


def test_addresses_are_trimmed_and_lower_cased() -> None:
    assert (
        normalise_email("  Ada.Lovelace+papers@Example.ORG ") == "ada.lovelace+papers@example.org"
    )


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "ftp://x.org", "https://a b.org", "//x"])
def test_paper_links_must_be_http_urls(raw: str) -> None:
    with pytest.raises(InvalidRequest):
        check_link(raw, "code repository")
