"""Papers whose title, abstract, authors, arXiv comments and reader comments are attacks, shown
everywhere they are shown: pages escape them, feeds stay well-formed XML carrying the text,
JSON and Markdown are not served as HTML, and the digest email's HTML part escapes them too.
"""

from __future__ import annotations

import json
from datetime import date
from email.message import EmailMessage
from urllib.parse import quote
from xml.etree import ElementTree

import pytest

from tests.integration.community.support import link_path
from tests.integration.digest.support import add_confirmed
from tests.integration.hostile.conftest import (
    HOSTILE_DAY,
    XSS_ARXIV_ID,
    XSS_AUTHOR,
    XSS_COMMENT,
    XSS_ID,
    HostileRig,
)
from tests.integration.hostile.corpus import XSS, unescaped

AUTHOR = quote(XSS_AUTHOR, safe="")
PAGES = (
    "/",
    f"/papers/date/{HOSTILE_DAY}",
    "/papers/week/2026-W19",
    "/papers/month/2026-05",
    f"/papers/{XSS_ID}",
    f"/papers/{XSS_ARXIV_ID}",
    f"/authors/{AUTHOR}",
    "/trending",
    "/search?q=Attention",
    "/search?q=" + quote(XSS[0]),
    "/status",
    "/moderation",
)
FEEDS = (
    "/feeds/daily.rss",
    "/feeds/daily.atom",
    "/feeds/trending.rss",
    "/feeds/trending.atom",
    f"/feeds/authors/{AUTHOR}.rss",
    f"/feeds/authors/{AUTHOR}.atom",
    "/feeds/search.atom?q=Attention",
    "/feeds/search.rss?q=" + quote(XSS[0]),
)


@pytest.mark.parametrize("path", PAGES)
def test_pages_show_hostile_text_escaped(hostile: HostileRig, path: str) -> None:
    response = hostile.admin.get(path)
    assert response.status_code == 200, response.text[:300]
    assert not unescaped(response.text), path
    assert 'href="javascript:' not in response.text.lower()


def test_the_paper_page_shows_every_hostile_field_as_text(hostile: HostileRig) -> None:
    html = hostile.reader.get(f"/papers/{XSS_ID}").text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html  # the title, as text
    assert "&lt;/textarea&gt;&lt;script&gt;" in html
    assert "&lt;svg/onload=alert(2)&gt;" in html  # the author
    assert "javascript:alert(1)" not in html  # the refused github link
    assert "Nice paper" in html and 'href="javascript:' not in html  # the comment's link
    other = hostile.reader.get(f"/papers/{XSS_ARXIV_ID}").text
    assert "&lt;/textarea&gt;&lt;script&gt;alert(3)&lt;/script&gt; 12 pages" in other  # comment
    assert "{{7*7}}" in other and "49" not in other.split("{{7*7}}")[0][-5:]


@pytest.mark.parametrize("path", FEEDS)
def test_feeds_stay_well_formed_and_carry_the_text(hostile: HostileRig, path: str) -> None:
    response = hostile.reader.get(path)
    assert response.status_code == 200, response.text[:300]
    assert "xml" in response.headers["content-type"]
    root = ElementTree.fromstring(response.content)
    text = " ".join(root.itertext())
    if "search.rss" not in path:
        assert "Attention" in text or "Comments" in text, path
    # Inside the XML the payload is character data: no element named script, img or svg.
    tags = {element.tag.rsplit("}", 1)[-1].lower() for element in root.iter()}
    assert not tags & {"script", "img", "svg", "a", "textarea"}, path


def test_json_and_markdown_are_not_served_as_html(hostile: HostileRig) -> None:
    paper = hostile.reader.get(f"/api/papers/{XSS_ID}")
    assert paper.headers["content-type"].startswith("application/json")
    assert paper.json()["title"].startswith(XSS[0])
    assert paper.headers["x-content-type-options"] == "nosniff"
    day = hostile.reader.get("/api/daily_papers", params={"date": HOSTILE_DAY})
    assert XSS_AUTHOR in json.dumps(day.json(), ensure_ascii=False)
    found = hostile.reader.get("/api/papers/search", params={"q": XSS[0]})
    assert found.status_code == 200
    markdown = hostile.reader.get(f"/papers/{XSS_ID}.md")
    assert markdown.status_code == 200
    assert "html" not in markdown.headers["content-type"]
    bib = hostile.reader.get(f"/papers/{XSS_ID}", params={"format": "bib"})
    assert bib.status_code == 200 and "html" not in bib.headers["content-type"]


def test_the_digest_email_escapes_hostile_papers(hostile: HostileRig) -> None:
    services = hostile.server.services
    address = "digest-reader@example.org"
    add_confirmed(services, address, frequency="weekly")
    sender = services.digest_sender()
    report = sender.run("weekly", date.fromisoformat(HOSTILE_DAY))
    assert report.sent == 1, report
    mail = hostile.community.sink.wait_for(address)
    message: EmailMessage = mail.message
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "Attention" in html
    assert not unescaped(html)
    assert "&lt;script&gt;" in html
    for name in ("Subject", "From", "To", "List-Unsubscribe"):
        assert "\n" not in str(message[name]) and "<script" not in str(message[name]), name
    text = mail.text
    assert XSS[0] in text  # plain text carries the title verbatim: it is not HTML
    view = hostile.reader.get(link_path(next(u for u in mail.links() if "/digest/view" in u)))
    assert view.status_code == 200 and not unescaped(view.text)


def test_a_comment_with_markup_is_stored_as_typed_and_shown_inert(hostile: HostileRig) -> None:
    html = hostile.reader.get(f"/papers/{XSS_ID}").text
    assert XSS_COMMENT not in html
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
