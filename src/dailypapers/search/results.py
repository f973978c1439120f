"""What a search returns: hits with highlighted snippets, the total, matches per month, timing.

Plain values, so the page, the API and the feeds render the same result their own way.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from dailypapers.domain import Paper
from dailypapers.search.query import Mode, Query


@dataclass(frozen=True, slots=True)
class Snippet:
    """A fragment of a field with the matched spans, as character offsets into `text`."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()

    def to_html(self, tag: str = "mark") -> str:
        """The fragment HTML-escaped, each matched span wrapped in <tag>."""
        parts: list[str] = []
        position = 0
        for start, end in self.highlights:
            if start < position:
                continue
            parts.append(html.escape(self.text[position:start]))
            parts.append(f"<{tag}>{html.escape(self.text[start:end])}</{tag}>")
            position = end
        parts.append(html.escape(self.text[position:]))
        return "".join(parts)


@dataclass(frozen=True, slots=True)
class SearchHit:
    paper: Paper
    # BM25 with field boosts; 0.0 where the order is by date or upvotes without words.
    score: float
    title: Snippet
    abstract: Snippet
    # Cosine of the paper's vector with the query's; None in keyword mode or without a vector.
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str  # "2024-05"
    count: int


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: Query
    hits: tuple[SearchHit, ...]
    total: int
    months: tuple[MonthCount, ...]
    elapsed_ms: float
    generation: int
    # The mode that ran: "keyword" when semantic search was asked for but is unavailable (no
    # vectors yet, no exported model) or does not apply (browse, date or upvote order).
    mode: Mode = "keyword"
    # Hybrid only: how many distinct words of the query its keyword side ranked by.
    words_read: int = 0

    @property
    def has_next_page(self) -> bool:
        return self.query.offset + len(self.hits) < self.total


@dataclass(frozen=True, slots=True)
class SimilarPaper:
    paper: Paper
    similarity: float  # cosine of the two papers' vectors
