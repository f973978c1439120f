"""The domain: the values every layer speaks (values.py), arXiv's metadata rules (arxiv.py), its
announce calendar (calendar.py) and the listing periods (periods.py). Stdlib only, no I/O.

The values are re-exported here: `from dailypapers.domain import Paper`.
"""

from dailypapers.domain.values import (
    Account,
    ApiToken,
    Comment,
    DeliverySummary,
    DigestDelivery,
    DigestPreferences,
    Featured,
    FeaturedRecord,
    ImportCounts,
    LinkChange,
    ModerationEntry,
    Paper,
    PaperRecord,
    ReportedComment,
    StoreStats,
    Subscriber,
    Version,
    VersionRecord,
    VoteState,
    author_key,
    baseline_cast_at,
    is_arxiv_id,
    split_arxiv_id,
)

__all__ = [
    "Account",
    "ApiToken",
    "Comment",
    "DeliverySummary",
    "DigestDelivery",
    "DigestPreferences",
    "Featured",
    "FeaturedRecord",
    "ImportCounts",
    "LinkChange",
    "ModerationEntry",
    "Paper",
    "PaperRecord",
    "ReportedComment",
    "StoreStats",
    "Subscriber",
    "Version",
    "VersionRecord",
    "VoteState",
    "author_key",
    "baseline_cast_at",
    "is_arxiv_id",
    "split_arxiv_id",
]
