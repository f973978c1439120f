"""arXiv's OAI-PMH endpoint: ListRecords pages and GetRecord, in metadataPrefix arXiv or arXivRaw.

One call fetches one page, so the caller can store each page with the token that follows it.
OAI error documents become empty pages (noRecordsMatch) or clear errors; records are mapped to
`PaperRecord`, and a record that cannot be mapped is logged and reported, never stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from xml.etree.ElementTree import Element

from dailypapers.domain import PaperRecord, VersionRecord
from dailypapers.domain.arxiv import mark_withdrawn
from dailypapers.errors import InvalidRequest, SourceUnavailable
from dailypapers.sources import arxiv_fields as fields
from dailypapers.sources.http import PoliteHttp
from dailypapers.sources.safe_xml import parse_xml

log = logging.getLogger(__name__)

METADATA_PREFIXES = ("arXiv", "arXivRaw")
NS = {
    "oai": "http://www.openarchives.org/OAI/2.0/",
    "arXiv": "http://arxiv.org/OAI/arXiv/",
    "arXivRaw": "http://arxiv.org/OAI/arXivRaw/",
}
# OAI-PMH error codes that mean our request was wrong, not that arXiv is unwell.
_REQUEST_ERRORS = frozenset(
    {"badArgument", "badVerb", "cannotDisseminateFormat", "noSetHierarchy", "noMetadataFormats"}
)


class BadResumptionToken(SourceUnavailable):
    """The repository no longer accepts the token (expired or unknown): restart the list."""


@dataclass(frozen=True, slots=True)
class OaiPage:
    """One ListRecords answer. `resumption_token` is None on the last page."""

    records: tuple[PaperRecord, ...]
    rejected: tuple[str, ...]  # OAI identifiers of records that could not be mapped
    deleted: int
    resumption_token: str | None
    complete_list_size: int | None
    response_date: datetime | None
    max_datestamp: date | None


class OaiPmhClient:
    def __init__(self, http: PoliteHttp, base_url: str) -> None:
        self._http = http
        self.base_url = base_url

    def list_records(
        self,
        metadata_prefix: str,
        *,
        set_spec: str | None = None,
        from_date: date | None = None,
        until: date | None = None,
    ) -> OaiPage:
        """The first page of a selective harvest (dates inclusive, day granularity)."""
        check_metadata_prefix(metadata_prefix)
        params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix}
        if set_spec:
            params["set"] = set_spec
        if from_date:
            params["from"] = from_date.isoformat()
        if until:
            params["until"] = until.isoformat()
        return _page(self._fetch(params), "ListRecords")

    def resume(self, resumption_token: str) -> OaiPage:
        """The page after the one that carried `resumption_token`."""
        return _page(
            self._fetch({"verb": "ListRecords", "resumptionToken": resumption_token}),
            "ListRecords",
        )

    def get_record(self, arxiv_id: str, metadata_prefix: str = "arXiv") -> PaperRecord | None:
        check_metadata_prefix(metadata_prefix)
        params = {
            "verb": "GetRecord",
            "identifier": f"oai:arXiv.org:{arxiv_id}",
            "metadataPrefix": metadata_prefix,
        }
        try:
            page = _page(self._fetch(params), "GetRecord")
        except _IdDoesNotExist:
            return None
        return page.records[0] if page.records else None

    def _fetch(self, params: dict[str, str]) -> Element:
        source = f"OAI-PMH {params.get('verb')} at {self.base_url}"
        response = self._http.get(self.base_url, params)
        if response.status != 200 and b"<OAI-PMH" not in response.body[:2_000]:
            raise SourceUnavailable(f"{source} answered HTTP {response.status}")
        root = parse_xml(response.body, source)
        if root.tag != f"{{{NS['oai']}}}OAI-PMH":
            raise SourceUnavailable(f"{source} answered with something other than OAI-PMH")
        return root


def check_metadata_prefix(metadata_prefix: str) -> None:
    if metadata_prefix not in METADATA_PREFIXES:
        raise InvalidRequest(
            f"unsupported metadataPrefix {metadata_prefix!r}: use one of {METADATA_PREFIXES}"
        )


class _IdDoesNotExist(Exception):
    pass


def _page(root: Element, verb: str) -> OaiPage:
    response_date = _response_date(root)
    error = root.find("oai:error", NS)
    if error is not None:
        _raise_unless_empty(error.get("code", ""), fields.clean(error.text) or "")
        return OaiPage((), (), 0, None, 0, response_date, None)
    body = root.find(f"oai:{verb}", NS)
    if body is None:
        raise SourceUnavailable(f"OAI-PMH answer has neither {verb} nor an error")
    records: list[PaperRecord] = []
    rejected: list[str] = []
    deleted = 0
    datestamps: list[date] = []
    for record in body.findall("oai:record", NS):
        header = record.find("oai:header", NS)
        if header is None:
            raise SourceUnavailable("OAI-PMH record without a header")
        identifier = (header.findtext("oai:identifier", "", NS) or "?").strip()
        datestamps += _datestamp(header, identifier)
        if header.get("status") == "deleted":
            deleted += 1
            continue
        try:
            records.append(parse_metadata(record.find("oai:metadata", NS)))
        except fields.RecordError as exc:
            log.warning("skipping OAI record %s: %s", identifier, exc)
            rejected.append(identifier)
    token, size = _resumption(body)
    return OaiPage(
        records=tuple(records),
        rejected=tuple(rejected),
        deleted=deleted,
        resumption_token=token,
        complete_list_size=size,
        response_date=response_date,
        max_datestamp=max(datestamps, default=None),
    )


def _raise_unless_empty(code: str, message: str) -> None:
    """Map an OAI-PMH error to ours; noRecordsMatch is no error, just an empty list."""
    if code == "noRecordsMatch":
        return
    if code == "idDoesNotExist":
        raise _IdDoesNotExist(message)
    if code == "badResumptionToken":
        raise BadResumptionToken(f"OAI-PMH refused the resumption token: {message}")
    if code in _REQUEST_ERRORS:
        raise InvalidRequest(f"OAI-PMH {code}: {message}")
    raise SourceUnavailable(f"OAI-PMH error {code or '(no code)'}: {message}")


def _datestamp(header: Element, identifier: str) -> list[date]:
    stamp = (header.findtext("oai:datestamp", "", NS) or "").strip()
    try:
        return [date.fromisoformat(stamp[:10])] if stamp else []
    except ValueError:
        log.warning("OAI record %s has a bad datestamp %r", identifier, stamp[:40])
        return []


def _response_date(root: Element) -> datetime | None:
    try:
        return fields.timestamp(fields.clean(root.findtext("oai:responseDate", None, NS)), "date")
    except fields.RecordError:
        return None


def _resumption(body: Element) -> tuple[str | None, int | None]:
    element = body.find("oai:resumptionToken", NS)
    if element is None:
        return None, None
    size_text = element.get("completeListSize")
    size = int(size_text) if size_text and size_text.strip().isdigit() else None
    # An empty token element marks the last page of a list that had several.
    return (element.text or "").strip() or None, size


def parse_metadata(metadata: Element | None) -> PaperRecord:
    """Map an OAI <metadata> element in the arXiv or arXivRaw format to a PaperRecord."""
    if metadata is None:
        raise fields.RecordError("record has no metadata")
    arxiv = metadata.find("arXiv:arXiv", NS)
    if arxiv is not None:
        return _from_arxiv(arxiv)
    raw = metadata.find("arXivRaw:arXivRaw", NS)
    if raw is not None:
        return _from_arxiv_raw(raw)
    raise fields.RecordError("metadata is in neither the arXiv nor the arXivRaw format")


def _from_arxiv(element: Element) -> PaperRecord:
    ns = {"a": NS["arXiv"]}
    arxiv_id, _ = fields.arxiv_id(fields.child_text(element, "a:id", ns))
    created = fields.timestamp(fields.child_text(element, "a:created", ns), "created")
    updated = fields.timestamp(fields.child_text(element, "a:updated", ns), "updated")
    names = []
    for author in element.findall("a:authors/a:author", ns):
        parts = [
            author.findtext(f"a:{part}", "", ns) for part in ("forenames", "keyname", "suffix")
        ]
        names.append(" ".join(p.strip() for p in parts if p and p.strip()))
    return PaperRecord(
        arxiv_id=arxiv_id,
        # The arXiv format names no version; arXivRaw does.
        version=None,
        title=fields.required(fields.child_text(element, "a:title", ns), "title"),
        abstract=fields.child_text(element, "a:abstract", ns) or "",
        authors=fields.unique_names(names),
        published_at=created,
        updated_at=updated or created,
        categories=fields.categories([fields.child_text(element, "a:categories", ns) or ""]),
        comment=fields.child_text(element, "a:comments", ns),
        journal_ref=fields.child_text(element, "a:journal-ref", ns),
        doi=fields.child_text(element, "a:doi", ns),
        license=fields.child_text(element, "a:license", ns),
    )


def _from_arxiv_raw(element: Element) -> PaperRecord:
    ns = {"r": NS["arXivRaw"]}
    arxiv_id, _ = fields.arxiv_id(fields.child_text(element, "r:id", ns))
    versions = []
    for version in element.findall("r:version", ns):
        label = (version.get("version") or "").strip().lstrip("v")
        if not label.isdigit():
            raise fields.RecordError(f"bad version label {version.get('version')!r}")
        submitted = fields.timestamp(fields.child_text(version, "r:date", ns), "version date")
        versions.append(VersionRecord(int(label), submitted))
    versions.sort(key=lambda v: v.version)
    comment = fields.child_text(element, "r:comments", ns)
    marked = mark_withdrawn(tuple(versions), comment)
    # arXivRaw keeps authors as one line, "A. One, B. Two and C. Three".
    authors = (fields.child_text(element, "r:authors", ns) or "").replace(" and ", ", ")
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=marked[-1].version if marked else None,
        title=fields.required(fields.child_text(element, "r:title", ns), "title"),
        abstract=fields.child_text(element, "r:abstract", ns) or "",
        authors=fields.unique_names(authors.split(",")),
        published_at=marked[0].submitted_at if marked else None,
        updated_at=marked[-1].submitted_at if marked else None,
        categories=fields.categories([fields.child_text(element, "r:categories", ns) or ""]),
        comment=comment,
        journal_ref=fields.child_text(element, "r:journal-ref", ns),
        doi=fields.child_text(element, "r:doi", ns),
        license=fields.child_text(element, "r:license", ns),
        versions=marked,
    )
