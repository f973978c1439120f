"""The read use cases: featured lists, trending, papers and authors (papers.py), the trending
score (trending.py), the freshness status (status.py) and counts over time for charts
(activity.py). Search has its own way in: search/.

The paper and list reads are re-exported here (`catalog.paper(...)`).
"""

from dailypapers.catalog.activity import (
    DayCount,
    UpvoteHistory,
    author_papers_per_month,
    featured_per_day,
    upvote_history,
)
from dailypapers.catalog.papers import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    MAX_QUERY_CHARS,
    MAX_SEARCH_LIMIT,
    AuthorPapers,
    DailySort,
    FeaturedList,
    Freshness,
    Page,
    RankedPapers,
    author,
    check_page,
    featured_period,
    freshness,
    list_daily,
    paper,
    similar,
    trending,
)

__all__ = [
    "MAX_PAGE",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_CHARS",
    "MAX_SEARCH_LIMIT",
    "AuthorPapers",
    "DailySort",
    "DayCount",
    "FeaturedList",
    "Freshness",
    "Page",
    "RankedPapers",
    "UpvoteHistory",
    "author",
    "author_papers_per_month",
    "check_page",
    "featured_per_day",
    "featured_period",
    "freshness",
    "list_daily",
    "paper",
    "similar",
    "trending",
    "upvote_history",
]
