"""The tables, as SQLAlchemy Core metadata. Migrations create them; a test checks the two agree.

Past the ~400-line guide on purpose: the whole schema in one place, one table after another.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both backends (SQLite keeps naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


# On PostgreSQL change_seq comes from this sequence; on SQLite a writer holds the only write lock,
# so max + 1 is taken inside the write transaction (see store/papers.py: next_change_seq).
paper_change_seq = Sequence("paper_change_seq", metadata=metadata)

papers = Table(
    "papers",
    metadata,
    Column("arxiv_id", String(64), primary_key=True),
    Column("latest_version", Integer, nullable=True),
    Column("title", Text, nullable=False),
    Column("abstract", Text, nullable=False),
    # JSON list of names in order: the cards' fast path. The normalised link is paper_authors.
    Column("authors", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
    Column("primary_category", String(64), nullable=True),
    Column("categories", Text, nullable=False, server_default=""),
    Column("comment", Text, nullable=True),
    Column("journal_ref", Text, nullable=True),
    Column("doi", Text, nullable=True),
    Column("license", Text, nullable=True),
    Column("code_url", Text, nullable=True),
    Column("project_url", Text, nullable=True),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("change_seq", BigInteger, nullable=False),
    Column("ingested_at", UtcDateTime, nullable=False),
    Index(None, "change_seq"),
    Index(None, "published_at"),
)

paper_versions = Table(
    "paper_versions",
    metadata,
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("submitted_at", UtcDateTime, nullable=True),
    Column("withdrawn", Boolean, nullable=False, server_default="0"),
)

authors = Table(
    "authors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    # author_key(name): case- and accent-folded, what author pages match on.
    Column("name_key", Text, nullable=False, index=True),
)

paper_authors = Table(
    "paper_authors",
    metadata,
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("author_id", Integer, ForeignKey("authors.id"), nullable=False, index=True),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=True, unique=True),
    Column("username", String(64), nullable=True, unique=True),
    Column("display_name", Text, nullable=True),
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("suspended_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deleted_at", UtcDateTime, nullable=True),
)

featured = Table(
    "featured",
    metadata,
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), primary_key=True),
    Column("featured_on", Date, nullable=False, index=True),
    Column("submitted_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # Who submitted it where no local user did (an imported record's HF username).
    Column("submitter_name", Text, nullable=True),
    # Imported counts without voters: shown count = baseline + local rows. Not bumping change_seq.
    Column("upvotes_baseline", Integer, nullable=False, server_default="0"),
    Column("comments_baseline", Integer, nullable=False, server_default="0"),
    Column("source", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

votes = Table(
    "votes",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "arxiv_id", "created_at"),
)

comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), nullable=False, index=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("edited_at", UtcDateTime, nullable=True),
    Column("deleted_at", UtcDateTime, nullable=True),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("frequency", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("token_version", Integer, nullable=False, server_default="1"),
    Column("consent_at", UtcDateTime, nullable=True),
    Column("consent_ip", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("unsubscribed_at", UtcDateTime, nullable=True),
    # JSON digest preferences (keywords, exclude, categories, authors, more_like_upvotes).
    Column("preferences", Text, nullable=False, server_default="{}"),
    Column("bounce_count", Integer, nullable=False, server_default="0"),
    Column("confirmed_at", UtcDateTime, nullable=True),
)

digest_deliveries = Table(
    "digest_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("period", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("message_id", Text, nullable=True),
    Column("claimed_at", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("error", Text, nullable=True),
    # A claim is held until lease_until; a temporary failure waits until next_attempt_at.
    Column("lease_until", UtcDateTime, nullable=True),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # JSON list of the planned papers: a resend after a crash carries the same content.
    Column("paper_ids", Text, nullable=True),
    UniqueConstraint("subscriber_id", "period"),
    Index(None, "status"),
)

# One row per (subscriber, paper) ever planned into a digest: no paper is sent twice.
digest_sent_papers = Table(
    "digest_sent_papers",
    metadata,
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("arxiv_id", String(64), primary_key=True),
    Column("period", String(32), nullable=False),
    Column("planned_at", UtcDateTime, nullable=False),
)

digest_attempts = Table(
    "digest_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "delivery_id",
        Integer,
        ForeignKey("digest_deliveries.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=True),
)

saved_searches = Table(
    "saved_searches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        Integer,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("query", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

digest_feedback = Table(
    "digest_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), nullable=False
    ),
    Column("arxiv_id", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("topic", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("subscriber_id", "arxiv_id", "kind"),
)

paper_vectors = Table(
    "paper_vectors",
    metadata,
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), primary_key=True),
    Column("model_id", String(128), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
    # sha256 of the embedded text: a title or abstract change makes the vector stale.
    Column("text_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("status", String(16), nullable=False),
    Column("lines", Integer, nullable=False, server_default="0"),
    Column("papers_seen", Integer, nullable=False, server_default="0"),
    Column("papers_changed", Integer, nullable=False, server_default="0"),
    Column("featured_changed", Integer, nullable=False, server_default="0"),
    Column("rejects", Integer, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
)

# One row per upstream budget ("arxiv" covers its API, OAI-PMH and RSS): the earliest time the
# next request may start. Every process takes its turn here, so the spacing holds across them.
upstream_limits = Table(
    "upstream_limits",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("next_allowed_at", UtcDateTime, nullable=False),
)

# One OAI-PMH harvest cursor per (set, metadata prefix); "" is the whole repository.
harvest_state = Table(
    "harvest_state",
    metadata,
    Column("set_spec", String(128), primary_key=True),
    Column("metadata_prefix", String(32), primary_key=True),
    Column("from_date", Date, nullable=True),
    Column("until_date", Date, nullable=True),
    # Saved in the same transaction as the page it follows, so a killed harvest resumes exactly.
    Column("resumption_token", Text, nullable=True),
    # Every datestamp up to this day is in the store: the next incremental harvest starts here.
    Column("last_datestamp", Date, nullable=True),
    Column("status", String(16), nullable=False),
    Column("pages", Integer, nullable=False, server_default="0"),
    Column("records", Integer, nullable=False, server_default="0"),
    Column("started_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("error", Text, nullable=True),
)

# Community (#6). A session row is keyed by the sha256 of the cookie's random value, so a leaked
# table cannot be replayed as cookies.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

# Single-use tokens (sign-in, email change): a token's nonce lands here when it is used, in the
# same transaction as what it does. Rows past expires_at are purged; the token is dead by then.
token_uses = Table(
    "token_uses",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "expires_at"),
)

# Fixed-window counters ("signin-ip:1.2.3.4" in the hour starting window_start): one atomic
# upsert per hit, shared by every worker through the store.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("window_start", UtcDateTime, primary_key=True),
    Column("hits", Integer, nullable=False),
    Index(None, "window_start"),
)

comment_reports = Table(
    "comment_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("comment_id", Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("reporter_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    UniqueConstraint("comment_id", "reporter_id"),
)

moderation_log = Table(
    "moderation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("actor_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("action", String(32), nullable=False),
    Column("target", String(128), nullable=False),
    Column("detail", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "created_at"),
)

paper_link_changes = Table(
    "paper_link_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("arxiv_id", String(64), ForeignKey("papers.arxiv_id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("field", String(16), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index(None, "arxiv_id"),
)

# Personal API tokens: only the sha256 of the token is kept; the user sees the token once.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Index(None, "user_id"),
)

# Facts about the store itself, by key: "restore_epoch" changes on every `dailypapers restore`, so
# a search index built before it (on any machine) sees another store and rebuilds (#9).
store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# A user's submissions and comments are listed on the account page and found on deletion.
Index("ix_featured_submitted_by", featured.c.submitted_by)
Index("ix_comments_user_id", comments.c.user_id)
