"""Normalising arXiv's metadata fields (text, dates, ids, categories, withdrawals) for every source.

The same rules as the bulk importer's, so a paper reads the same whichever way it arrived.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element

from dailypapers.domain import VersionRecord, split_arxiv_id

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# arXiv's withdrawal notices ("This paper has been withdrawn by the author ..."), as the importer.
_WITHDRAWN = re.compile(
    r"(?i)\b(this (paper|article|submission|manuscript) (has been|is) withdrawn"
    r"|withdrawn by the author)"
)
# arXiv opened in August 1991; a date outside this range is corrupt, not a paper.
_EARLIEST = date(1991, 1, 1)
_LATEST = date(2100, 1, 1)


class RecordError(ValueError):
    """One upstream record that cannot be used; the message says which field and why."""


def clean(text: str | None) -> str | None:
    """NFC, control characters dropped, whitespace runs collapsed; empty text becomes None."""
    if text is None:
        return None
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split()) or None


def child_text(parent: Element, path: str, namespaces: dict[str, str]) -> str | None:
    found = parent.find(path, namespaces)
    return clean("".join(found.itertext())) if found is not None else None


def required(value: str | None, field: str) -> str:
    if not value:
        raise RecordError(f"missing {field}")
    return value


def arxiv_id(text: str | None) -> tuple[str, int | None]:
    try:
        return split_arxiv_id(required(text, "arXiv id"))
    except ValueError as exc:
        raise RecordError(str(exc)) from None


def timestamp(text: str | None, field: str) -> datetime | None:
    """A UTC datetime from YYYY-MM-DD (midnight), ISO 8601 or an RFC 2822 date."""
    if not text:
        return None
    try:
        if len(text) == 10:
            stamp = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        elif text[:4].isdigit():
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            stamp = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise RecordError(f"{field} is not a date: {text[:40]!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    if not _EARLIEST <= stamp.date() < _LATEST:
        raise RecordError(f"{field} is an impossible date: {text[:40]!r}")
    return stamp.astimezone(UTC)


def categories(values: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        for category in value.split():
            if category not in seen:
                seen.append(category)
    return tuple(seen)


def unique_names(names: Iterable[str | None]) -> tuple[str, ...]:
    kept: list[str] = []
    for name in names:
        cleaned = clean(name)
        if cleaned and cleaned not in kept:
            kept.append(cleaned)
    return tuple(kept)


def mark_withdrawn(
    versions: tuple[VersionRecord, ...], comment: str | None
) -> tuple[VersionRecord, ...]:
    """Flag the latest version withdrawn when the comment is arXiv's withdrawal notice."""
    if not versions or not comment or not _WITHDRAWN.search(comment):
        return versions
    last = versions[-1]
    return (*versions[:-1], VersionRecord(last.version, last.submitted_at, withdrawn=True))
