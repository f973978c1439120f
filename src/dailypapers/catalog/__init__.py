"""The read use cases: featured lists, trending, papers and authors (papers.py), the trending
score (trending.py) and the freshness status (status.py). Search has its own way in: search/.

The paper and list reads are re-exported here (`catalog.paper(...)`).
"""

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
    "FeaturedList",
    "Freshness",
    "Page",
    "RankedPapers",
    "author",
    "check_page",
    "featured_period",
    "freshness",
    "list_daily",
    "paper",
    "similar",
    "trending",
]
