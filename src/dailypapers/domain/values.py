"""Plain domain values: papers, authors, featured listings, accounts, comments, subscribers and
deliveries. No I/O, stdlib only."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

# New-style ids (0704.0001 onwards) and old-style archive/YYMMNNN ids, both without version.
_NEW_ID = re.compile(r"^\d{4}\.\d{4,5}$")
_OLD_ID = re.compile(r"^[a-z][a-z\-]*(\.[A-Z]{2})?/\d{7}$")
_VERSIONED = re.compile(r"^(?P<id>.+?)v(?P<version>\d+)$")


def split_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Return (arxiv_id without version, version or None) for an id or abs/pdf URL.

    Raises ValueError when the text is not an arXiv identifier.
    """
    text = raw.strip()
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    for host in ("arxiv.org/abs/", "arxiv.org/pdf/", "www.arxiv.org/abs/", "www.arxiv.org/pdf/"):
        if text.startswith(host):
            text = text[len(host) :]
    text = text.removeprefix("arXiv:").removeprefix("arxiv:").removesuffix(".pdf")
    version: int | None = None
    match = _VERSIONED.match(text)
    if match and (_NEW_ID.match(match["id"]) or _OLD_ID.match(match["id"])):
        text, version = match["id"], int(match["version"])
    if not (_NEW_ID.match(text) or _OLD_ID.match(text)):
        raise ValueError(f"not an arXiv identifier: {raw[:80]!r}")
    return text, version


def is_arxiv_id(text: str) -> bool:
    return bool(_NEW_ID.match(text) or _OLD_ID.match(text))


def author_key(name: str) -> str:
    """Fold an author name for matching: case, accents and spacing do not matter."""
    if name.isascii():
        return " ".join(name.casefold().split())
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@dataclass(frozen=True, slots=True)
class VersionRecord:
    version: int
    submitted_at: datetime | None = None
    withdrawn: bool = False


@dataclass(frozen=True, slots=True)
class FeaturedRecord:
    """A paper's place on a community list: the day, who put it there, and imported counts."""

    featured_on: date
    upvotes_baseline: int = 0
    comments_baseline: int = 0
    submitter_name: str | None = None


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One incoming paper, normalised from any source, before it meets the store."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    version: int | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None
    categories: tuple[str, ...] = ()
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    code_url: str | None = None
    project_url: str | None = None
    versions: tuple[VersionRecord, ...] = ()
    featured: FeaturedRecord | None = None

    @property
    def primary_category(self) -> str | None:
        return self.categories[0] if self.categories else None


@dataclass(frozen=True, slots=True)
class Version:
    version: int
    submitted_at: datetime | None
    withdrawn: bool


@dataclass(frozen=True, slots=True)
class Featured:
    featured_on: date
    submitter_name: str | None
    upvotes_baseline: int
    comments_baseline: int


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper as the store knows it, with its shown counts (baseline plus local)."""

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    latest_version: int | None
    published_at: datetime | None
    updated_at: datetime | None
    primary_category: str | None
    categories: tuple[str, ...]
    comment: str | None
    journal_ref: str | None
    doi: str | None
    license: str | None
    code_url: str | None
    project_url: str | None
    change_seq: int
    featured: Featured | None = None
    upvotes: int = 0
    num_comments: int = 0
    versions: tuple[Version, ...] = field(default=())

    @property
    def is_withdrawn(self) -> bool:
        return any(v.withdrawn for v in self.versions if v.version == self.latest_version)


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What one import did: lines read, papers written, featured listings, rejects."""

    lines: int = 0
    papers_seen: int = 0
    papers_changed: int = 0
    featured_changed: int = 0
    rejects: int = 0

    def __add__(self, other: ImportCounts) -> ImportCounts:
        return ImportCounts(
            lines=self.lines + other.lines,
            papers_seen=self.papers_seen + other.papers_seen,
            papers_changed=self.papers_changed + other.papers_changed,
            featured_changed=self.featured_changed + other.featured_changed,
            rejects=self.rejects + other.rejects,
        )


@dataclass(frozen=True, slots=True)
class StoreStats:
    papers: int
    authors: int
    featured: int
    featured_days: int
    first_published: date | None
    last_published: date | None
    first_featured: date | None
    last_featured: date | None
    last_ingest_at: datetime | None
    database_bytes: int | None
    backend: str


@dataclass(frozen=True, slots=True)
class Account:
    """A community user. A deleted account keeps its row (votes still count) without its data."""

    id: int
    email: str | None
    username: str | None
    display_name: str | None
    is_admin: bool
    suspended_at: datetime | None
    created_at: datetime
    deleted_at: datetime | None = None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def shown_name(self) -> str:
        return self.display_name or self.username or "deleted user"


@dataclass(frozen=True, slots=True)
class VoteState:
    """A paper's shown upvote count (baseline plus local rows) and whether this user voted."""

    arxiv_id: str
    upvoted: bool
    upvotes: int


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    arxiv_id: str
    user_id: int | None
    username: str | None
    display_name: str | None
    body: str
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None

    @property
    def author_name(self) -> str:
        return self.display_name or self.username or "deleted user"


@dataclass(frozen=True, slots=True)
class ReportedComment:
    """A comment with open reports, for the moderation page."""

    comment: Comment
    paper_title: str
    reports: int
    reasons: tuple[str, ...]
    first_reported_at: datetime


@dataclass(frozen=True, slots=True)
class ModerationEntry:
    id: int
    actor: str | None
    action: str
    target: str
    detail: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LinkChange:
    arxiv_id: str
    field: str
    old_value: str | None
    new_value: str | None
    username: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A personal API token's public face: the secret itself is shown once and never stored."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class DigestPreferences:
    """What a subscriber asked their digest to favour or leave out (empty: plain trending)."""

    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    more_like_upvotes: bool = False
    muted_topics: tuple[str, ...] = ()

    @property
    def is_personalised(self) -> bool:
        return bool(self.keywords or self.categories or self.authors or self.more_like_upvotes)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A digest subscription: pending until its opt-in link is confirmed."""

    id: int
    email: str
    frequency: str  # "daily" | "weekly"
    status: str  # "pending" | "confirmed" | "unsubscribed" | "bouncing"
    user_id: int | None
    token_version: int
    consent_at: datetime | None
    consent_ip: str | None
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    bounce_count: int
    preferences: DigestPreferences


@dataclass(frozen=True, slots=True)
class DigestDelivery:
    """One (subscriber, period) row of the delivery ledger."""

    id: int
    subscriber_id: int
    period: str
    status: str  # pending | claimed | retry | sent | quiet | bounced | failed
    attempts: int
    # The planned (arxiv_id, reason) pairs; None until planned.
    paper_ids: tuple[tuple[str, str], ...] | None
    message_id: str | None
    sent_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """The digest ledger at a glance: subscribers per status, deliveries per period and status
    (newest periods first) and the newest errors as (period, subscriber id, status, error)."""

    subscribers: dict[str, int]
    periods: dict[str, dict[str, int]]
    recent_errors: tuple[tuple[str, int, str, str], ...]

    def newest_period(self) -> str | None:
        """The newest daily period, else the newest weekly one (keys sort by date within a
        frequency: "daily:2026-11-28", "weekly:2026-W48")."""
        if not self.periods:
            return None
        return max(self.periods, key=lambda key: (key.startswith("daily:"), key))


def baseline_cast_at(featured_on: date) -> datetime:
    """When imported baseline votes count as cast: midnight UTC of the featured day."""
    return datetime.combine(featured_on, time.min, tzinfo=UTC)
