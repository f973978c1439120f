"""Feature rules: which harvested papers join a day's list, as configured by the admin.

- "none": community submissions only (as on Hugging Face), the default;
- "categories": every new paper listed in one of the configured categories;
- "queries": new papers matching an admin query, parsed by the one `Query` parser and matched
  by the search engine (keyword mode), so a rule means exactly what the search page shows.

Harvested papers go on the list of the newest arXiv mailing day. A paper is never featured twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

from dailypapers.domain.calendar import latest_announcement, mailing_day
from dailypapers.errors import InvalidRequest
from dailypapers.search.index import SearchIndex
from dailypapers.search.query import MAX_LIMIT, Query, parse_query
from dailypapers.search.service import search_papers
from dailypapers.store import Database
from dailypapers.store.featuring import feature_papers, list_unfeatured_new

log = logging.getLogger(__name__)

FeatureRule = Literal["none", "categories", "queries"]
FEATURE_RULES: tuple[FeatureRule, ...] = get_args(FeatureRule)
# The `featured.source` of papers featured by a rule (imports say "import", users "community").
FEATURE_SOURCE = "harvest"
# Pages of search results read per query: a rule matching more than this many new papers in one
# day is too broad to be a feature rule.
MAX_QUERY_PAGES = 20


@dataclass(frozen=True, slots=True)
class FeatureRules:
    rule: FeatureRule
    categories: tuple[str, ...]
    queries: tuple[str, ...]
    # Only papers first published this recently count as new: re-harvested old papers (new
    # versions, backfills) never reach a day's list.
    new_within_days: int

    def __post_init__(self) -> None:
        if self.rule not in FEATURE_RULES:
            raise InvalidRequest(f"feature rule must be one of {', '.join(FEATURE_RULES)}")
        if self.rule == "categories" and not self.categories:
            raise InvalidRequest("the categories feature rule needs feature_categories")
        if self.rule == "queries" and not self.queries:
            raise InvalidRequest("the queries feature rule needs feature_queries")

    def parsed_queries(self, since: date) -> list[Query]:
        return [
            parse_query(text, date_from=since, sort="date", limit=MAX_LIMIT, mode="keyword")
            for text in self.queries
        ]


@dataclass(frozen=True, slots=True)
class FeatureReport:
    rule: FeatureRule
    featured_on: date | None  # None when the rule is "none"
    candidates: int
    featured: int
    matched_by_query: dict[str, int] = field(default_factory=dict)


def feature_harvested(
    db: Database,
    index: SearchIndex,
    rules: FeatureRules,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> FeatureReport:
    """Add the new papers the rules pick to the newest mailing day's list; idempotent.

    With the "queries" rule the keyword index must be caught up first (harvest ends so).
    """
    if rules.rule == "none":
        return FeatureReport(rule="none", featured_on=None, candidates=0, featured=0)
    now = clock()
    day = mailing_day(latest_announcement(now))
    since = now - timedelta(days=rules.new_within_days)
    matched: dict[str, int] = {}
    if rules.rule == "categories":
        ids = list_unfeatured_new(db, published_since=since, categories=rules.categories)
    else:
        found: list[str] = []
        for text, query in zip(rules.queries, rules.parsed_queries(since.date()), strict=True):
            hits = _matching_ids(db, index, query)
            matched[text] = len(hits)
            found.extend(hits)
        ids = list_unfeatured_new(db, published_since=since, among=sorted(set(found)))
    added = feature_papers(db, ids, featured_on=day, source=FEATURE_SOURCE, now=now)
    log.info("featured %d of %d new papers on %s (%s rule)", added, len(ids), day, rules.rule)
    return FeatureReport(
        rule=rules.rule,
        featured_on=day,
        candidates=len(ids),
        featured=added,
        matched_by_query=matched,
    )


def _matching_ids(db: Database, index: SearchIndex, query: Query) -> Sequence[str]:
    ids: list[str] = []
    for page in range(1, MAX_QUERY_PAGES + 1):
        result = search_papers(db, index, _page(query, page))
        ids.extend(hit.paper.arxiv_id for hit in result.hits)
        if not result.has_next_page:
            break
    return ids


def _page(query: Query, page: int) -> Query:
    return replace(query, page=page)
