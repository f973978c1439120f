"""Parse one JSON record in a known dump format into a PaperRecord, or say exactly why not.

Formats: `hf` (Hugging Face daily-papers records with a featured day and counts), `arxiv` (arXiv
metadata records), and `kaggle` (the arXiv "arxiv-metadata-oai-snapshot" JSON lines). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from dailypapers.domain import FeaturedRecord, PaperRecord, VersionRecord, split_arxiv_id
from dailypapers.domain.arxiv import clean_text, mark_withdrawn, parse_timestamp

Format = Literal["hf", "arxiv", "kaggle"]
FORMATS: tuple[Format, ...] = ("hf", "arxiv", "kaggle")

_MAX_AUTHORS = 10_000  # the largest real author lists (LHC collaborations) hold about 5,000 names


class RecordError(ValueError):
    """A record that cannot be imported; the message says which field and why."""


def detect_format(record: Mapping[str, Any]) -> Format | None:
    if "authors_parsed" in record or ("id" in record and "versions" in record):
        return "kaggle"
    if "daily_date" in record:
        return "hf"
    if "arxiv_id" in record:
        return "arxiv"
    return None


def parse_record(record: Any, fmt: Format, *, max_field_chars: int) -> PaperRecord:
    if not isinstance(record, dict):
        raise RecordError("record is not a JSON object")
    _check_sizes(record, max_field_chars)
    return _PARSERS[fmt](record)


def _parse_hf(record: dict[str, Any]) -> PaperRecord:
    arxiv_id, version = _arxiv_id(record.get("arxiv_id"))
    featured_on = _date(record.get("daily_date"), "daily_date", required=True)
    assert featured_on is not None
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=_title(record.get("title")),
        abstract=_text(record.get("abstract"), "abstract") or "",
        authors=_author_list(record.get("authors")),
        published_at=_timestamp(record.get("published"), "published"),
        code_url=_url(record.get("github")),
        project_url=_url(record.get("project_page")),
        featured=FeaturedRecord(
            featured_on=featured_on,
            upvotes_baseline=_count(record.get("upvotes"), "upvotes"),
            comments_baseline=_count(record.get("num_comments"), "num_comments"),
            submitter_name=_text(record.get("submitter"), "submitter"),
        ),
    )


def _parse_arxiv(record: dict[str, Any]) -> PaperRecord:
    arxiv_id, version = _arxiv_id(record.get("arxiv_id"))
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=_title(record.get("title")),
        abstract=_text(record.get("abstract"), "abstract") or "",
        authors=_author_list(record.get("authors")),
        published_at=_timestamp(record.get("published"), "published"),
        updated_at=_timestamp(record.get("updated"), "updated"),
        categories=_categories(record.get("categories")),
        comment=_text(record.get("comment"), "comment"),
        journal_ref=_text(record.get("journal_ref"), "journal_ref"),
        doi=_text(record.get("doi"), "doi"),
    )


def _parse_kaggle(record: dict[str, Any]) -> PaperRecord:
    arxiv_id, _ = _arxiv_id(record.get("id"))
    versions = _kaggle_versions(record.get("versions"))
    comment = _text(record.get("comments"), "comments")
    versions = mark_withdrawn(versions, comment)
    updated_at = versions[-1].submitted_at if len(versions) > 1 else None
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=versions[-1].version if versions else None,
        title=_title(record.get("title")),
        abstract=_text(record.get("abstract"), "abstract") or "",
        authors=_kaggle_authors(record),
        published_at=versions[0].submitted_at if versions else None,
        updated_at=updated_at or _timestamp(record.get("update_date"), "update_date"),
        categories=_categories(record.get("categories")),
        comment=comment,
        journal_ref=_text(record.get("journal-ref"), "journal-ref"),
        doi=_text(record.get("doi"), "doi"),
        license=_text(record.get("license"), "license"),
        versions=versions,
    )


_PARSERS: dict[Format, Callable[[dict[str, Any]], PaperRecord]] = {
    "hf": _parse_hf,
    "arxiv": _parse_arxiv,
    "kaggle": _parse_kaggle,
}


def _check_sizes(record: dict[str, Any], limit: int) -> None:
    for key, value in record.items():
        size = len(value) if isinstance(value, str | list) else 0
        if isinstance(value, list) and key not in ("authors", "authors_parsed"):
            size = sum(len(str(v)) for v in value)
        if size > limit:
            raise RecordError(f"field {key!r} is too large ({size:,} > {limit:,})")


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {field!r} is not text")
    return clean_text(value) or None


def _title(value: Any) -> str:
    title = _text(value, "title")
    if not title:
        raise RecordError("missing title")
    return title


def _arxiv_id(value: Any) -> tuple[str, int | None]:
    if not isinstance(value, str) or not value.strip():
        raise RecordError("missing arXiv id")
    try:
        return split_arxiv_id(value)
    except ValueError as exc:
        raise RecordError(str(exc)) from None


def _author_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = re.split(r",\s*|\s+and\s+", value)
    if not isinstance(value, list):
        raise RecordError("field 'authors' is not a list")
    if len(value) > _MAX_AUTHORS:
        raise RecordError(f"too many authors ({len(value):,})")
    names: list[str] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise RecordError("an author name is not text")
        cleaned = clean_text(name)
        if len(cleaned) > 1_000:
            raise RecordError("an author name is too long")
        if cleaned and cleaned not in names:
            names.append(cleaned)
    return tuple(names)


def _kaggle_authors(record: dict[str, Any]) -> tuple[str, ...]:
    parsed = record.get("authors_parsed")
    if isinstance(parsed, list) and parsed:
        names = []
        for parts in parsed:
            if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
                raise RecordError("field 'authors_parsed' is malformed")
            last, first, suffix = ([*parts, "", "", ""])[:3]
            names.append(" ".join(p for p in (first, last, suffix) if p.strip()))
        return _author_list(names)
    return _author_list(record.get("authors"))


def _categories(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordError("field 'categories' is malformed")
    seen: list[str] = []
    for category in value:
        category = category.strip()
        if category and category not in seen:
            seen.append(category)
    return tuple(seen)


def _count(value: Any, field: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"field {field!r} is not a non-negative integer")
    return value


def _url(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value.startswith(("https://", "http://")) and len(value) < 2_000 else None


def _date(value: Any, field: str, *, required: bool = False) -> date | None:
    stamp = _timestamp(value, field)
    if stamp is None:
        if required:
            raise RecordError(f"missing {field}")
        return None
    return stamp.date()


def _timestamp(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RecordError(f"field {field!r} is not a date")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise RecordError(f"field {field!r} has an {exc}") from None


def _kaggle_versions(value: Any) -> tuple[VersionRecord, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RecordError("field 'versions' is malformed")
    versions = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("version"), str):
            raise RecordError("field 'versions' is malformed")
        label = item["version"].lstrip("v")
        if not label.isdigit():
            raise RecordError(f"bad version label {item['version'][:20]!r}")
        versions.append(VersionRecord(int(label), _timestamp(item.get("created"), "versions")))
    return tuple(sorted(versions, key=lambda v: v.version))
