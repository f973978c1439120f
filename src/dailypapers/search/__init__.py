"""Search: the one Query object, the derived keyword index (caught up from the store), results."""

from dailypapers.search.catchup import CatchUpReport, catch_up, rebuild
from dailypapers.search.index import SearchIndex
from dailypapers.search.query import Query, parse_query, query_from_params
from dailypapers.search.results import MonthCount, SearchHit, SearchResult, Snippet
from dailypapers.search.service import search_papers

__all__ = [
    "CatchUpReport",
    "MonthCount",
    "Query",
    "SearchHit",
    "SearchIndex",
    "SearchResult",
    "Snippet",
    "catch_up",
    "parse_query",
    "query_from_params",
    "rebuild",
    "search_papers",
]
