"""RSS 2.0 and Atom 1.0 documents for a list of papers, built with ElementTree (always escaped,
always well-formed). Pure: the caller passes URLs and the feed's update time; no HTTP here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime

from dailypapers.domain import Paper, baseline_cast_at
from dailypapers.web.exports import abs_url

_ATOM_NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 cannot carry at all, escaped or not.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedInfo:
    title: str
    description: str
    page_url: str  # the HTML page this feed mirrors
    self_url: str  # the feed's own URL
    feed_id: str  # stable identity of the feed (Atom id)


def item_guid(paper: Paper) -> str:
    """A paper's feed identity: its arXiv abs URL, the same on every instance and feed."""
    return abs_url(paper.arxiv_id)


def item_time(paper: Paper) -> datetime:
    """When the paper entered a list: its featured day, else its arXiv publication."""
    if paper.featured is not None:
        return baseline_cast_at(paper.featured.featured_on)
    return paper.published_at or _EPOCH


def feed_updated(papers: Sequence[Paper], fallback: datetime | None = None) -> datetime:
    """The newest item time; an empty feed uses `fallback` (e.g. the last ingest)."""
    times = [item_time(p) for p in papers]
    if fallback is not None:
        times.append(fallback)
    return max(times, default=_EPOCH).replace(microsecond=0)


def render_rss(info: FeedInfo, papers: Sequence[Paper], *, base_url: str) -> bytes:
    ET.register_namespace("atom", _ATOM_NS)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", info.title)
    _text(channel, "link", info.page_url)
    _text(channel, "description", info.description)
    ET.SubElement(
        channel,
        f"{{{_ATOM_NS}}}link",
        {"href": info.self_url, "rel": "self", "type": "application/rss+xml"},
    )
    _text(channel, "lastBuildDate", format_datetime(feed_updated(papers), usegmt=True))
    _text(channel, "generator", "dailypapers")
    for paper in papers:
        item = ET.SubElement(channel, "item")
        _text(item, "title", paper.title)
        _text(item, "link", f"{base_url}/papers/{paper.arxiv_id}")
        _text(item, "description", paper.abstract)
        ET.SubElement(item, "guid", {"isPermaLink": "false"}).text = item_guid(paper)
        _text(item, "pubDate", format_datetime(item_time(paper), usegmt=True))
        if paper.authors:
            _text(item, "author", _author_line(paper))
        for category in paper.categories:
            _text(item, "category", category)
    return _serialise(rss)


def render_atom(info: FeedInfo, papers: Sequence[Paper], *, base_url: str) -> bytes:
    # Atom elements are written unqualified under a literal default xmlns: ElementTree's own
    # default_namespace option refuses unqualified attributes such as type= and href=.
    feed = ET.Element("feed", {"xmlns": _ATOM_NS})
    _atom(feed, "id", info.feed_id)
    _atom(feed, "title", info.title)
    _atom(feed, "subtitle", info.description)
    _atom(feed, "updated", feed_updated(papers).isoformat())
    _atom_link(feed, info.page_url, "alternate", "text/html")
    _atom_link(feed, info.self_url, "self", "application/atom+xml")
    _atom(feed, "generator", "dailypapers")
    # Atom requires an author on the feed or on every entry; papers always carry their own.
    feed_author = ET.SubElement(feed, "author")
    _atom(feed_author, "name", info.title)
    for paper in papers:
        entry = ET.SubElement(feed, "entry")
        _atom(entry, "id", item_guid(paper))
        _atom(entry, "title", paper.title)
        _atom(entry, "updated", item_time(paper).isoformat())
        if paper.published_at is not None:
            _atom(entry, "published", paper.published_at.isoformat())
        _atom_link(entry, f"{base_url}/papers/{paper.arxiv_id}", "alternate", "text/html")
        for name in paper.authors:
            _atom(ET.SubElement(entry, "author"), "name", name)
        for category in paper.categories:
            ET.SubElement(entry, "category", {"term": category})
        summary = _atom(entry, "summary", paper.abstract)
        summary.set("type", "text")
    return _serialise(feed)


def _author_line(paper: Paper) -> str:
    shown = ", ".join(paper.authors[:10])
    return shown + (f" and {len(paper.authors) - 10} more" if len(paper.authors) > 10 else "")


def _text(parent: ET.Element, tag: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _xml_safe(value)
    return element


def _atom(parent: ET.Element, tag: str, value: str) -> ET.Element:
    return _text(parent, tag, value)


def _atom_link(parent: ET.Element, href: str, rel: str, media_type: str) -> None:
    ET.SubElement(parent, "link", {"href": href, "rel": rel, "type": media_type})


def _xml_safe(value: str) -> str:
    return _NOT_XML.sub("", value)


def _serialise(root: ET.Element) -> bytes:
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
