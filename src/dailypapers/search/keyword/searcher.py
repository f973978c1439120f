"""Reading one keyword directory: BM25 search, any-word ranking, matching ids, counts per month
and snippets, safe to share between threads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy
from tantivy import Occur

from dailypapers.domain import is_arxiv_id
from dailypapers.search.keyword.schema import (
    ABSTRACT_SNIPPET_CHARS,
    ANALYZERS,
    ANY_WORDS_FIELDS,
    ANY_WORDS_MAX,
    FIELD_ANALYZER,
    FIELD_NAMES,
    SCHEMA,
    STOP_TERMS,
    TITLE_PHRASE_BOOST,
    CorruptIndex,
    ResultOrder,
    register,
)
from dailypapers.search.keyword.snippets import Marker, lead
from dailypapers.search.keyword.translation import clause_query, filters
from dailypapers.search.query import Query
from dailypapers.search.results import MonthCount, Snippet


@dataclass(frozen=True, slots=True)
class KeywordHits:
    hits: list[tuple[str, float]]
    total: int


class KeywordSearcher:
    """A read-only view of one directory, opened once and safe to share between threads."""

    def __init__(self, path: Path) -> None:
        try:
            self._index = register(tantivy.Index.open(str(path)))
            self._searcher = self._index.searcher()
            self._last_text_query: tuple[Query, tantivy.Query | None] | None = None
            self._last_markers: tuple[Query, tuple[Marker, Marker] | None] | None = None
        except (ValueError, OSError) as exc:
            raise CorruptIndex(f"{path}: {exc}") from exc

    @property
    def num_docs(self) -> int:
        return self._searcher.num_docs

    @property
    def num_segments(self) -> int:
        return int(self._searcher.num_segments)

    def indexed_seqs(self, arxiv_ids: Sequence[str]) -> dict[str, int]:
        """The change_seq each of these papers was indexed at (papers not in the index left out)."""
        if not arxiv_ids:
            return {}
        found = self._searcher.search(
            tantivy.Query.term_set_query(SCHEMA, "id", list(arxiv_ids)),
            limit=len(arxiv_ids),
            count=False,
        ).hits
        addresses = [address for _, address in found]
        seqs = self._searcher.fast_field_values("change_seq", addresses)
        return {self._id(a): int(s) for a, s in zip(addresses, seqs, strict=True) if s is not None}

    def search(
        self,
        query: Query,
        *,
        order: ResultOrder,
        limit: int,
        offset: int = 0,
        only_ids: Collection[str] | None = None,
        not_ids: Collection[str] = (),
    ) -> KeywordHits:
        """One page of matches and the total. Filters (and `only_ids`) apply before ranking."""
        compiled = self._compile(query, only_ids, not_ids)
        if order == "date" or query.is_browse:
            result = self._searcher.search(
                compiled, limit=limit, offset=offset, order_by_field="published"
            )
            pairs = [(self._id(address), 0.0) for _, address in result.hits]
        else:
            result = self._searcher.search(compiled, limit=limit, offset=offset)
            pairs = [(self._id(address), float(score)) for score, address in result.hits]
        # `count` exists at run time though tantivy's stub leaves it out.
        return KeywordHits(pairs, int(getattr(result, "count", 0) or 0))

    def search_any(
        self,
        query: Query,
        *,
        limit: int,
        only_ids: Collection[str] | None = None,
        words: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The top `limit` papers by BM25 over any of the query's plain words (title and abstract),
        fielded clauses, exclusions and filters still required: hybrid's keyword ranking, which
        a long natural-language query needs (every word required would match nothing).
        `words`: the query's any_words() when the caller has them already."""
        words = self.any_words(query) if words is None else words
        if not words:
            return []
        any_word = tantivy.Query.boolean_query(
            [
                (Occur.Should, tantivy.Query.boost_query(tantivy.Query.term_query(SCHEMA, f, w), b))
                for w in words
                for f, b in ANY_WORDS_FIELDS.items()
            ]
        )
        clauses: list[tuple[Occur, tantivy.Query]] = [(Occur.Must, any_word)]
        for clause in query.constraints:
            if (matcher := clause_query(clause, self._searcher)) is not None:
                clauses.append((Occur.MustNot if clause.excluded else Occur.Must, matcher))
        for condition in filters(query, only_ids):
            clauses.append((Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
        result = self._searcher.search(tantivy.Query.boolean_query(clauses), limit=limit)
        return [(self._id(address), float(score)) for score, address in result.hits]

    def any_words(self, query: Query) -> list[str]:
        """The indexed terms hybrid's BM25 side ranks by: every content word of the query's
        plain text (all of a pasted paragraph, not only its first MAX_CLAUSES words), stop words
        and numbers left out, each once; BM25's IDF already weights the rare ones. Past
        ANY_WORDS_MAX distinct words (a 2,000-character query has about 150) the rarest are kept."""
        words = dict.fromkeys(
            token
            for token in ANALYZERS["dp_text"].analyze(query.semantic_text)
            if token not in STOP_TERMS and not token.isdigit()
        )
        if len(words) <= ANY_WORDS_MAX:
            return list(words)
        frequency = {w: sum(self._searcher.doc_freq(f, w) for f in ANY_WORDS_FIELDS) for w in words}
        rarest = sorted((w for w in words if frequency[w]), key=lambda w: frequency[w])
        return rarest[:ANY_WORDS_MAX]

    def matching_ids(
        self, query: Query, arxiv_ids: Collection[str], *, constraints_only: bool = False
    ) -> set[str]:
        """Which of these papers match `query` (or only its fielded clauses and exclusions)."""
        if not arxiv_ids:
            return set()
        if constraints_only:
            clauses: list[tuple[Occur, tantivy.Query]] = [(Occur.Must, tantivy.Query.all_query())]
            for clause in query.constraints:
                if (matcher := clause_query(clause, self._searcher)) is not None:
                    clauses.append((Occur.MustNot if clause.excluded else Occur.Must, matcher))
            ids = tantivy.Query.term_set_query(SCHEMA, "id", list(arxiv_ids))
            clauses.append((Occur.Must, tantivy.Query.const_score_query(ids, 0.0)))
            compiled = tantivy.Query.boolean_query(clauses)
        else:
            compiled = self._compile(query, arxiv_ids, ())
        result = self._searcher.search(compiled, limit=len(arxiv_ids), count=False)
        return {self._id(address) for _, address in result.hits}

    def max_matches(self, query: Query) -> int:
        """An upper bound on the matches of `query` from the terms' document frequencies, without
        running it: every wanted clause must match, so its rarest term bounds the matches.
        Deleted documents and filters only make the real number smaller."""
        bound = self.num_docs
        for clause in query.wanted:
            if clause.field == "id":
                bound = min(bound, 1)
                continue
            names = [FIELD_NAMES[clause.field]] if clause.field else ["text", "categories"]
            found = 1 if clause.field is None and is_arxiv_id(clause.text) else 0
            for name in names:
                tokens = ANALYZERS[FIELD_ANALYZER[name]].analyze(clause.text)
                if tokens:
                    found += min(int(self._searcher.doc_freq(name, t)) for t in tokens)
            bound = min(bound, found)
        return bound

    def count(self, query: Query) -> int:
        result = self._searcher.search(self._compile(query, None, ()), limit=1, count=True)
        return int(getattr(result, "count", 0) or 0)

    def all_matches(
        self, query: Query, *, only_ids: Collection[str] | None, limit: int
    ) -> list[tuple[str, float, int]]:
        """Up to `limit` matches (among `only_ids` if given) as (arxiv_id, score, published):
        the candidates that live upvote counts are joined on."""
        if limit <= 0 or (only_ids is not None and not only_ids):
            return []
        compiled = self._compile(query, only_ids, ())
        result = self._searcher.search(compiled, limit=limit, count=False)
        addresses = [address for _, address in result.hits]
        published = self._searcher.fast_field_values("published", addresses)
        return [
            (self._id(address), float(score), int(day or 0))
            for (score, address), day in zip(result.hits, published, strict=True)
        ]

    def months(
        self, query: Query, *, only_ids: Collection[str] | None = None
    ) -> tuple[MonthCount, ...]:
        compiled = self._compile(query, only_ids, ())
        result = self._searcher.aggregate(
            compiled, {"months": {"terms": {"field": "month", "size": 10_000}}}
        )
        buckets = sorted((int(b["key"]), int(b["doc_count"])) for b in result["months"]["buckets"])
        return tuple(MonthCount(f"{key // 100:04d}-{key % 100:02d}", n) for key, n in buckets)

    def snippets(self, query: Query, title: str, abstract: str) -> tuple[Snippet, Snippet]:
        """The title, whole, and a piece of the abstract, with the query's words marked."""
        return self.snippets_for(query, [(title, abstract)])[0]

    def snippets_for(
        self, query: Query, texts: Sequence[tuple[str, str]]
    ) -> list[tuple[Snippet, Snippet]]:
        """`snippets` for each (title, abstract) of a page.

        The query's words are found here rather than by tantivy's SnippetGenerator, which
        stems every word of every abstract shown (about 90 us each, the larger part of a
        result page): a regular expression finds the words that could stem to a query term,
        and only those are stemmed (remembered across searches).
        """
        markers = self._markers(query)
        if markers is None:
            return [(Snippet(title), Snippet(lead(abstract))) for title, abstract in texts]
        titles, abstracts = markers
        return [
            (titles.title(title), abstracts.fragment(abstract, ABSTRACT_SNIPPET_CHARS))
            for title, abstract in texts
        ]

    def _markers(self, query: Query) -> tuple[Marker, Marker] | None:
        """The title and abstract markers of `query`'s wanted words; None: it has none.
        The last query's are kept: a page asks for snippets once per search."""
        last = self._last_markers
        if last is not None and last[0] == query:
            return last[1]
        terms: dict[str, dict[str, float]] = {"title": {}, "abstract": {}}
        wanted = [(clause, ANALYZERS["dp_text"].analyze(clause.text)) for clause in query.wanted]
        # A pasted paragraph's "with", "in" and "the" would be marked in every abstract and hide
        # the words that matter: stop words are marked only in a query made of nothing else.
        content = {t for _, tokens in wanted for t in tokens if t not in STOP_TERMS}
        for clause, tokens in wanted:
            fields = {None: ("title", "abstract"), "ti": ("title",), "abs": ("abstract",)}
            for name in fields.get(clause.field, ()):
                for token in tokens:
                    if token not in terms[name] and (token in content or not content):
                        frequency = int(self._searcher.doc_freq(name, token))
                        if frequency:  # as tantivy's snippets: rarer words weigh more
                            terms[name][token] = 1.0 / (1.0 + frequency)
        markers = None
        if terms["title"] or terms["abstract"]:
            markers = (Marker(terms["title"]), Marker(terms["abstract"]))
        self._last_markers = (query, markers)
        return markers

    def _id(self, address: tantivy.DocAddress) -> str:
        return str(self._searcher.doc(address).get_first("id"))

    def _compile(
        self, query: Query, only_ids: Collection[str] | None, not_ids: Collection[str]
    ) -> tantivy.Query:
        wanted = self._text_query(query)
        clauses: list[tuple[Occur, tantivy.Query]] = []
        if wanted is not None:
            clauses.append((Occur.Must, wanted))
        elif query.blank_text:
            return tantivy.Query.empty_query()
        else:
            clauses.append((Occur.Must, tantivy.Query.all_query()))
        for clause in query.excluded:
            if (matcher := clause_query(clause, self._searcher)) is not None:
                clauses.append((Occur.MustNot, matcher))
        for condition in filters(query, only_ids):
            clauses.append((Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
        if not_ids:
            ids = tantivy.Query.term_set_query(SCHEMA, "id", list(not_ids))
            clauses.append((Occur.MustNot, ids))
        return tantivy.Query.boolean_query(clauses)

    def _text_query(self, query: Query) -> tantivy.Query | None:
        """The wanted clauses, every one required, plus the exact-title bonus; None: no words.

        The last one is kept: a result page asks again for each hit's snippets, and a long query
        has 64 clauses over four fields to translate.
        """
        last = self._last_text_query
        if last is not None and last[0] == query:
            return last[1]
        compiled = self._translate(query)
        self._last_text_query = (query, compiled)
        return compiled

    def _translate(self, query: Query) -> tantivy.Query | None:
        required = [m for c in query.wanted if (m := clause_query(c, self._searcher)) is not None]
        if not required:
            return None
        clauses = [(Occur.Must, matcher) for matcher in required]
        plain = " ".join(c.text for c in query.wanted if c.field is None)
        title_words = ANALYZERS["dp_text"].analyze(plain)
        if len(title_words) > 1:
            phrase = tantivy.Query.phrase_query(SCHEMA, "title", [*title_words])
            clauses.append((Occur.Should, tantivy.Query.boost_query(phrase, TITLE_PHRASE_BOOST)))
        return tantivy.Query.boolean_query(clauses)


def open_searcher(path: Path) -> KeywordSearcher:
    return KeywordSearcher(path)
