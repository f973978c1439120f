"""arXiv's per-category RSS (rss.arxiv.org): the day's announcements, new, cross-listed or replaced.

Cheaper than OAI-PMH for "what appeared today": one request per set of categories. Parsed with
the same safe XML parser as the other upstreams (see docs/harvesting.md for why not feedparser).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from urllib.parse import quote
from xml.etree.ElementTree import Element

from dailypapers.domain import PaperRecord, VersionRecord
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.sources import arxiv_fields as fields
from dailypapers.sources.http import PoliteHttp
from dailypapers.sources.safe_xml import parse_xml

log = logging.getLogger(__name__)

NS = {
    "arxiv": "http://arxiv.org/schemas/atom",
    "dc": "http://purl.org/dc/elements/1.1/",
}
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]+)?$")
# "arXiv:2609.26811v1 Announce Type: new \nAbstract: ..." opens every item's description.
_DESCRIPTION = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(Abstract:\s*)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Announcement:
    announce_type: str  # new | cross | replace | replace-cross
    announced_on: date | None
    record: PaperRecord


class ArxivRssClient:
    def __init__(self, http: PoliteHttp, base_url: str) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")

    def fetch_announcements(self, categories: Sequence[str]) -> list[Announcement]:
        """Today's announcements in these categories (archives like `cs` or `cs.LG`)."""
        if not categories or not all(_CATEGORY.match(c) for c in categories):
            raise InvalidRequest(f"not arXiv categories: {', '.join(categories)!r}")
        url = f"{self.base_url}/{quote('+'.join(categories), safe='+.-')}"
        response = self._http.get(url)
        if response.status != 200:
            raise SourceUnavailable(f"arXiv RSS {url} answered HTTP {response.status}")
        return parse_feed(parse_xml(response.body, f"arXiv RSS {url}"))


def parse_feed(rss: Element) -> list[Announcement]:
    channel = rss.find("channel")
    if rss.tag != "rss" or channel is None:
        raise SourceUnavailable("arXiv RSS answered with something other than an RSS channel")
    announcements = []
    for item in channel.findall("item"):
        try:
            announcements.append(_announcement(item))
        except fields.RecordError as exc:
            log.warning("skipping RSS item %s: %s", item.findtext("guid"), exc)
    return announcements


def _announcement(item: Element) -> Announcement:
    guid = fields.clean(item.findtext("guid")) or ""
    arxiv_id, version = fields.arxiv_id(guid.removeprefix("oai:arXiv.org:") or None)
    announce_type = fields.clean(item.findtext("arxiv:announce_type", None, NS)) or ""
    if announce_type not in ANNOUNCE_TYPES:
        raise fields.RecordError(f"unknown announce_type {announce_type[:20]!r}")
    description = item.findtext("description") or ""
    creators = (fields.clean(item.findtext("dc:creator", None, NS)) or "").replace(" and ", ", ")
    record = PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=fields.required(fields.child_text(item, "title", NS), "title"),
        abstract=fields.clean(_DESCRIPTION.sub("", description, count=1)) or "",
        authors=fields.unique_names(creators.split(",")),
        categories=fields.categories(c.text or "" for c in item.findall("category")),
        doi=fields.child_text(item, "arxiv:DOI", NS),
        journal_ref=fields.child_text(item, "arxiv:journal_reference", NS),
        license=fields.child_text(item, "dc:rights", NS),
        versions=(VersionRecord(version),) if version else (),
    )
    return Announcement(announce_type, _announced_on(item.findtext("pubDate")), record)


def _announced_on(text: str | None) -> date | None:
    """The announcement day in arXiv's own time zone (the feed's pubDate is local midnight)."""
    try:
        return parsedate_to_datetime(text).date() if text else None
    except (TypeError, ValueError):
        return None
