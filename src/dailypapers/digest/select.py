"""Which papers a digest holds, and why: a pure function of its inputs (DESIGN.md decision 4).

Candidates are the period's trending papers, best first. A subscriber without preferences gets
the top N; one with preferences gets the candidates that match a keyword, category, followed
author, saved search or resemble their upvotes, each with the first reason it matched. Papers
sent before, excluded by a keyword, down-voted or in a muted topic never appear.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from dailypapers.domain import DigestPreferences, Paper


@dataclass(frozen=True, slots=True)
class Candidate:
    paper: Paper
    score: float


@dataclass(frozen=True, slots=True)
class Item:
    paper: Paper
    reason: str


@dataclass(frozen=True, slots=True)
class Signals:
    """What else steers one subscriber's digest, gathered by the caller."""

    sent: frozenset[str] = frozenset()
    down_voted: frozenset[str] = frozenset()
    # saved query text -> the candidate ids it matches
    saved: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # candidate id -> (similarity, title of the most similar upvoted paper)
    similar: Mapping[str, tuple[float, str]] = field(default_factory=dict)
    # candidate id -> (similarity, title of the most similar paper given a 👍 in a digest)
    liked: Mapping[str, tuple[float, str]] = field(default_factory=dict)


@lru_cache(maxsize=4_096)
def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(word.lower()) + r"(?!\w)")


@lru_cache(maxsize=4_096)
def _text(title: str, abstract: str) -> str:
    return f"{title}\n{abstract}".lower()


def _mentions(paper: Paper, word: str) -> bool:
    text = _text(paper.title, paper.abstract)
    if word.lower() not in text:  # the cheap test first: most words are simply absent
        return False
    return _word_pattern(word).search(text) is not None


@lru_cache(maxsize=8_192)
def _folded(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(casefolded name, name) pairs: a paper's authors are folded once, not per subscriber."""
    return tuple((n.casefold().strip(), n) for n in names)


def _author_match(paper: Paper, authors: tuple[str, ...]) -> str | None:
    if not authors:
        return None
    wanted = {folded for folded, _ in _folded(authors)}
    for folded, name in _folded(paper.authors):
        if folded in wanted:
            return name
    return None


def reason_for(
    paper: Paper, prefs: DigestPreferences, signals: Signals, similarity_threshold: float
) -> str | None:
    """The first rule `paper` matches, as a line for the reader; None when it matches none."""
    for word in prefs.keywords:
        if _mentions(paper, word):
            return f"Matches your keyword “{word}”"
    for category in prefs.categories:
        if category in paper.categories or category == paper.primary_category:
            return f"In your category {category}"
    author = _author_match(paper, prefs.authors)
    if author is not None:
        return f"By {author}, whom you follow"
    for query, ids in signals.saved.items():
        if paper.arxiv_id in ids:
            return f"Matches your saved search “{query}”"
    if prefs.more_like_upvotes and paper.arxiv_id in signals.similar:
        score, title = signals.similar[paper.arxiv_id]
        if score >= similarity_threshold:
            return f"Similar to “{title}”, which you upvoted"
    return _liked_reason(paper, signals, similarity_threshold)


def _liked_reason(paper: Paper, signals: Signals, threshold: float) -> str | None:
    if paper.arxiv_id in signals.liked:
        score, title = signals.liked[paper.arxiv_id]
        if score >= threshold:
            return f"Similar to “{title}”, which you liked"
    return None


def _left_out(paper: Paper, prefs: DigestPreferences, signals: Signals) -> bool:
    if paper.arxiv_id in signals.sent or paper.arxiv_id in signals.down_voted:
        return True
    if paper.primary_category is not None and paper.primary_category in prefs.muted_topics:
        return True
    return any(_mentions(paper, word) for word in prefs.exclude)


def select_items(
    candidates: Sequence[Candidate],
    prefs: DigestPreferences,
    signals: Signals,
    *,
    top_n: int,
    similarity_threshold: float = 0.5,
) -> list[Item]:
    """At most `top_n` items, best trending score first; without preferences, the trending
    papers like one given a 👍 come first."""
    personal = prefs.is_personalised or bool(signals.saved)

    def order(c: Candidate) -> tuple[bool, float, str]:
        liked = not personal and _liked_reason(c.paper, signals, similarity_threshold) is not None
        return (not liked, -c.score, c.paper.arxiv_id)

    chosen: list[Item] = []
    for candidate in sorted(candidates, key=order):
        paper = candidate.paper
        if _left_out(paper, prefs, signals):
            continue
        if personal:
            reason = reason_for(paper, prefs, signals, similarity_threshold)
            if reason is None:
                continue
        else:
            votes = paper.upvotes
            reason = _liked_reason(paper, signals, similarity_threshold) or (
                f"Trending: {votes} upvote{'s' if votes != 1 else ''}"
            )
        chosen.append(Item(paper, reason))
        if len(chosen) >= top_n:
            break
    return chosen
