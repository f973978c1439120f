"""base_url ends up in every emailed link and feed: only a plain http(s) URL is accepted."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dailypapers.config import Settings


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000", "https://papers.example.org", "https://example.org/papers"]
)
def test_a_web_url_is_accepted(url: str) -> None:
    assert Settings(base_url=url).base_url == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://example.org",
        "https://",
        "//evil.example",
        "https://example.org/?next=x",
        "https://example.org/#top",
        "https://example.org/\r\nX-Injected: 1",
        "https://exa mple.org",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(base_url=url)
    assert "base_url must be an http(s) URL" in str(refused.value)
