"""The paper as markdown keeps the paper's own text as text, and only what would become markup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from markdown_it import MarkdownIt

from dailypapers.domain import Paper
from dailypapers.web.exports import render_markdown


def _paper(title: str, abstract: str = "An abstract.", authors: tuple[str, ...] = ("A",)) -> Paper:
    return Paper(
        arxiv_id="2605.00003",
        title=title,
        abstract=abstract,
        authors=authors,
        latest_version=1,
        published_at=datetime(2026, 4, 30, tzinfo=UTC),
        updated_at=None,
        primary_category="cs.LG",
        categories=("cs.LG",),
        comment=None,
        journal_ref=None,
        doi=None,
        license=None,
        code_url="https://github.com/example/code",
        project_url="https://example.org/project",
        change_seq=1,
    )


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("<script>alert(1)</script> X", "&lt;script&gt;alert(1)&lt;/script&gt; X"),
        ("A <b>bold</b> claim", "A &lt;b&gt;bold&lt;/b&gt; claim"),
        ("<!-- hidden --> Y", "&lt;!-- hidden --&gt; Y"),
        ("Tom &amp; Jerry", "Tom &amp;amp; Jerry"),
        ("[click](javascript:alert(1))", "[click](javascript:alert(1))"),
        ("<https://evil.example>", "&lt;https://evil.example&gt;"),
    ],
)
def test_markup_in_a_title_renders_as_the_text_it_is(title: str, shown: str) -> None:
    html = _html(render_markdown(_paper(title), page_url="http://hub.example/papers/x"))
    assert f"<h1>{shown}</h1>" in html


@pytest.mark.parametrize(
    "text",
    ["a < b and c > d", "Attention & Transformers", "Results [1] and [2, 3]", "x_i * y_i"],
)
def test_plain_text_is_left_as_written(text: str) -> None:
    markdown = render_markdown(_paper(text, abstract=text), page_url="http://hub.example/p")
    assert markdown.startswith(f"# {text}\n")
    assert f"## Abstract\n\n{text}\n" in markdown


def test_markup_in_authors_and_the_abstract_is_inert() -> None:
    paper = _paper("T", abstract='<img src=x onerror="alert(1)"> ok', authors=("Bob <i>I</i>",))
    html = _html(render_markdown(paper, page_url="http://hub.example/p"))
    assert "<img" not in html and "<i>" not in html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; ok" in html
    assert "Bob &lt;i&gt;I&lt;/i&gt;" in html
