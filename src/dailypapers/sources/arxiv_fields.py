"""Normalising arXiv's metadata fields (text, dates, ids, categories, withdrawals) for every source.

The same rules as the bulk importer's, so a paper reads the same whichever way it arrived.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from xml.etree.ElementTree import Element

from dailypapers.domain import split_arxiv_id
from dailypapers.domain.arxiv import clean_text, parse_timestamp


class RecordError(ValueError):
    """One upstream record that cannot be used; the message says which field and why."""


def clean(text: str | None) -> str | None:
    """NFC, control characters dropped, whitespace runs collapsed; empty text becomes None."""
    if text is None:
        return None
    return clean_text(text) or None


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
        return parse_timestamp(text)
    except ValueError as exc:
        raise RecordError(f"{field} is an {exc}") from None


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
