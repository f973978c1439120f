"""arXiv's query API (export.arxiv.org/api/query, Atom): look papers up by id, or search.

Reads the current feed layout and the legacy (pre-2025) one alike: both keep the same Atom and
arxiv: element names, only their order and namespace declarations differ. arXiv's error feed
(HTTP 400, an entry whose id is under /api/errors) becomes `InvalidRequest`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from dailypapers.domain import PaperRecord, VersionRecord, split_arxiv_id
from dailypapers.domain.arxiv import mark_withdrawn
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.sources import arxiv_fields as fields
from dailypapers.sources.http import PoliteHttp
from dailypapers.sources.safe_xml import parse_xml

log = logging.getLogger(__name__)

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
# arXiv asks API clients to keep pages at or below this many entries.
MAX_RESULTS_PER_CALL = 2_000


@dataclass(frozen=True, slots=True)
class ApiResults:
    records: tuple[PaperRecord, ...]
    total_results: int
    start_index: int


class ArxivApiClient:
    def __init__(self, http: PoliteHttp, base_url: str) -> None:
        self._http = http
        self.base_url = base_url

    def fetch_paper(self, arxiv_id: str) -> PaperRecord | None:
        """The paper with this id (old-style, new-style, optionally versioned), or None.

        Raises InvalidRequest when arXiv rejects the id, SourceUnavailable when arXiv is down.
        """
        try:
            wanted, _ = split_arxiv_id(arxiv_id)
        except ValueError as exc:
            raise InvalidRequest(str(exc)) from None
        for record in self.fetch_papers([arxiv_id]):
            if record.arxiv_id == wanted:
                return record
        return None

    def fetch_papers(self, arxiv_ids: Sequence[str]) -> list[PaperRecord]:
        """The papers arXiv knows among `arxiv_ids`; unknown ids are simply absent."""
        if not arxiv_ids:
            return []
        if len(arxiv_ids) > MAX_RESULTS_PER_CALL:
            raise InvalidRequest(f"at most {MAX_RESULTS_PER_CALL} ids per call")
        params = {
            "search_query": "",
            "id_list": ",".join(i.strip() for i in arxiv_ids),
            "start": "0",
            "max_results": str(len(arxiv_ids)),
        }
        return list(self._query(params).records)

    def search(self, query: str, *, start: int = 0, max_results: int = 100) -> ApiResults:
        """One page of results for arXiv's search_query syntax (e.g. `cat:cs.LG AND all:bert`)."""
        if not 0 < max_results <= MAX_RESULTS_PER_CALL or start < 0:
            raise InvalidRequest(f"max_results must be 1..{MAX_RESULTS_PER_CALL}, start >= 0")
        params = {"search_query": query, "start": str(start), "max_results": str(max_results)}
        return self._query(params)

    def _query(self, params: dict[str, str]) -> ApiResults:
        source = f"arXiv API at {self.base_url}"
        response = self._http.get(self.base_url, params)
        if response.status not in (200, 400):
            raise SourceUnavailable(f"{source} answered HTTP {response.status}")
        feed = parse_xml(response.body, source)
        if feed.tag != f"{{{NS['atom']}}}feed":
            raise SourceUnavailable(f"{source} answered with something other than an Atom feed")
        entries = feed.findall("atom:entry", NS)
        for entry in entries:
            if "/api/errors" in (entry.findtext("atom:id", "", NS) or ""):
                message = fields.clean(entry.findtext("atom:summary", None, NS))
                raise InvalidRequest(f"arXiv API: {message or 'request refused'}")
        if response.status != 200:
            raise SourceUnavailable(f"{source} answered HTTP {response.status}")
        records = []
        for entry in entries:
            try:
                records.append(parse_entry(entry))
            except fields.RecordError as exc:
                log.warning("skipping arXiv API entry %s: %s", entry.findtext("atom:id"), exc)
        return ApiResults(
            records=tuple(records),
            total_results=_opensearch_int(feed, "totalResults"),
            start_index=_opensearch_int(feed, "startIndex"),
        )


def _opensearch_int(feed: Element, name: str) -> int:
    text = (feed.findtext(f"opensearch:{name}", "", NS) or "").strip()
    return int(text) if text.isdigit() else 0


def parse_entry(entry: Element) -> PaperRecord:
    """Map one Atom entry (current or legacy layout) to a PaperRecord."""
    arxiv_id, version = fields.arxiv_id(_abs_id(fields.child_text(entry, "atom:id", NS)))
    published = fields.timestamp(fields.child_text(entry, "atom:published", NS), "published")
    updated = fields.timestamp(fields.child_text(entry, "atom:updated", NS), "updated")
    primary = entry.find("arxiv:primary_category", NS)
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [c.get("term", "") for c in entry.findall("atom:category", NS)]
    comment = fields.child_text(entry, "arxiv:comment", NS)
    # An entry is one version: its <updated> is when that version was submitted.
    versions = (VersionRecord(version, updated),) if version else ()
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=fields.required(fields.child_text(entry, "atom:title", NS), "title"),
        abstract=fields.child_text(entry, "atom:summary", NS) or "",
        authors=fields.unique_names(
            a.findtext("atom:name", None, NS) for a in entry.findall("atom:author", NS)
        ),
        published_at=published,
        updated_at=updated or published,
        # Category terms are single tokens; a term with spaces would be a broken feed.
        categories=fields.categories(t for t in terms if t and " " not in t.strip()),
        comment=comment,
        journal_ref=fields.child_text(entry, "arxiv:journal_ref", NS),
        doi=fields.child_text(entry, "arxiv:doi", NS),
        versions=mark_withdrawn(versions, comment),
    )


def _abs_id(entry_id: str | None) -> str | None:
    """'http://arxiv.org/abs/hep-th/9901001v2' -> 'hep-th/9901001v2'."""
    if entry_id and "/abs/" in entry_id:
        return entry_id.split("/abs/", 1)[1]
    return entry_id
