"""Comment markdown to safe HTML: CommonMark without raw HTML, links limited to http(s), mailto
and this site, images shown as their links (the CSP allows no outside images anyway).
"""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt

_SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _is_safe_link(url: str) -> bool:
    # markdown-it normalises the URL first (entities decoded, percent-encoded), so a scheme
    # hidden behind character references arrives here spelled out; unknown schemes are refused.
    target = url.strip().lower()
    if target.startswith(_SAFE_SCHEMES):
        return True
    return ":" not in target.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]


def _make() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = _is_safe_link  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow ugc noopener")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_MD = _make()


def render_comment(body: str) -> str:
    """HTML for a comment body; every piece of user text comes out escaped."""
    return str(_MD.render(body))
