"""Search checks against a brute-force scan of the store, shared by the sample and shared-data
tests: an exact title comes first, au: and cat: find what they should, a date filter plus a rare
term returns every match."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from dailypapers.search import SearchIndex, parse_query, search_papers
from dailypapers.search.keyword.schema import ANALYZERS
from dailypapers.search.query import Query
from dailypapers.store import Database
from dailypapers.store.changes import PaperText, list_paper_texts


@dataclass(frozen=True)
class Scanned:
    paper: PaperText
    words: frozenset[str]  # the analyzed title and abstract


def scan(db: Database) -> list[Scanned]:
    with db.read() as conn:
        texts = list_paper_texts(conn, [(0, None)], limit=1_000_000)
    analyze = ANALYZERS["dp_text"].analyze
    return [
        Scanned(t, frozenset(analyze(t.title)) | frozenset(analyze(t.abstract)))
        for t in texts
        if not t.hidden
    ]


def every_match(db: Database, index: SearchIndex, query: Query) -> tuple[list[str], int]:
    """All pages of a query, in order, and the reported total."""
    ids: list[str] = []
    page = 1
    while True:
        result = search_papers(db, index, Query(**{**_fields(query), "page": page, "limit": 120}))
        ids.extend(hit.paper.arxiv_id for hit in result.hits)
        if not result.has_next_page:
            return ids, result.total
        page += 1


def check_exact_titles_come_first(db: Database, index: SearchIndex, corpus: list[Scanned]) -> int:
    titles = Counter(" ".join(s.paper.title.lower().split()) for s in corpus)
    checked = 0
    for scanned in corpus[:: max(1, len(corpus) // 40)]:
        title = scanned.paper.title
        if (
            titles[" ".join(title.lower().split())] > 1
            or len(ANALYZERS["dp_text"].analyze(title)) < 2
        ):
            continue
        result = search_papers(db, index, parse_query(title.replace('"', " ")[:2_000]))
        assert result.hits, title
        assert result.hits[0].paper.arxiv_id == scanned.paper.arxiv_id, title
        checked += 1
    return checked


def check_author_search(db: Database, index: SearchIndex, corpus: list[Scanned]) -> str:
    counts = Counter(name for s in corpus for name in s.paper.authors)
    name = next(n for n, c in counts.most_common() if c >= 3 and n.isascii() and " " in n)
    expected = {s.paper.arxiv_id for s in corpus if name in s.paper.authors}
    found, total = every_match(db, index, parse_query(f'au:"{name}"'))
    assert expected <= set(found)
    surname = name.split()[-1].lower()
    assert all(surname in " ".join(p.authors).lower() for p in _papers(corpus, found))
    assert total == len(found)
    return name


def check_category_filter(db: Database, index: SearchIndex, corpus: list[Scanned]) -> str:
    counts = Counter(c for s in corpus for c in s.paper.categories)
    category = next(c for c, n in counts.most_common() if 10 <= n <= len(corpus) // 3)
    word = ANALYZERS["dp_text"].analyze("learning")[0]
    expected = {
        s.paper.arxiv_id for s in corpus if category in s.paper.categories and word in s.words
    }
    found, total = every_match(db, index, parse_query("learning", categories=[category]))
    assert set(found) == expected and total == len(expected)
    by_field, _ = every_match(db, index, parse_query(f"learning cat:{category}"))
    assert set(by_field) == expected
    return category


def check_date_filter_with_a_rare_term(
    db: Database, index: SearchIndex, corpus: list[Scanned]
) -> tuple[str, int]:
    """A rare word spread over time, filtered to a range holding some but not all of its papers."""
    frequency = Counter(w for s in corpus for w in s.words if w.isalpha() and len(w) > 6)
    for word, count in sorted(frequency.items(), key=lambda kv: (kv[1], kv[0])):
        if count < 4:
            continue
        days = sorted(d for s in corpus if word in s.words if (d := _day(s)) is not None)
        if len(set(days)) < 3:
            continue
        low, high = days[1], days[-2]
        expected = {
            s.paper.arxiv_id
            for s in corpus
            if word in s.words and (d := _day(s)) is not None and low <= d <= high
        }
        if not 2 <= len(expected) < count:
            continue
        found, total = every_match(db, index, parse_query(word, date_from=low, date_to=high))
        assert set(found) == expected and total == len(expected), word
        return word, len(expected)
    raise AssertionError("no rare word spread over several days in this corpus")


def _day(scanned: Scanned) -> date | None:
    published = scanned.paper.published_at
    return published.date() if published else None


def _papers(corpus: list[Scanned], ids: list[str]) -> list[PaperText]:
    wanted = set(ids)
    return [s.paper for s in corpus if s.paper.arxiv_id in wanted]


def _fields(query: Query) -> dict[str, object]:
    return {name: getattr(query, name) for name in Query.__dataclass_fields__}
