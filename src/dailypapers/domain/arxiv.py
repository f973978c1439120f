"""Normalising arXiv metadata values, one rule for every source: text, dates, withdrawals.

Pure and stdlib-only, so the bulk importer and the upstream clients read a paper the same way.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime

from dailypapers.domain.values import VersionRecord

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# arXiv's withdrawal notices ("This paper has been withdrawn by the author ...").
_WITHDRAWN = re.compile(
    r"(?i)\b(this (paper|article|submission|manuscript) (has been|is) withdrawn"
    r"|withdrawn by the author)"
)
# arXiv opened in August 1991; a date outside this range is corrupt, not a paper.
EARLIEST = date(1991, 1, 1)
LATEST = date(2100, 1, 1)


def clean_text(text: str) -> str:
    """NFC, control characters turned to spaces, whitespace runs collapsed."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    if not text.isprintable():
        text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


def parse_timestamp(text: str) -> datetime:
    """A UTC datetime from YYYY-MM-DD (midnight), ISO 8601 or an RFC 2822 date.

    Raises ValueError saying "not a date" or "impossible date".
    """
    try:
        if len(text) == 10:
            stamp = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        elif text[:4].isdigit():
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            stamp = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"impossible date: {text[:40]!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    if not EARLIEST <= stamp.date() < LATEST:
        raise ValueError(f"impossible date: {text[:40]!r}")
    return stamp.astimezone(UTC)


def mark_withdrawn(
    versions: tuple[VersionRecord, ...], comment: str | None
) -> tuple[VersionRecord, ...]:
    """Flag the latest version withdrawn when the comment is arXiv's withdrawal notice."""
    if not versions or not comment or not _WITHDRAWN.search(comment):
        return versions
    last = versions[-1]
    return (*versions[:-1], VersionRecord(last.version, last.submitted_at, withdrawn=True))
