"""The keyword index in one tantivy directory: schema, analyzers, documents, query translation,
BM25 search, counts per month and snippets. The only module that imports tantivy.

It knows nothing of generations, locks or the store: `search/index.py` decides where and when.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Literal

import tantivy
from tantivy import Filter, Occur, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

from dailypapers.domain import is_arxiv_id, split_arxiv_id
from dailypapers.search.query import Clause, Field, Query
from dailypapers.search.results import MonthCount, Snippet
from dailypapers.store.changes import PaperText

# Bump when the schema, analyzers or document mapping change: older generations get rebuilt.
# 2: words without a field search one combined field; date filters on an indexed day number.
SCHEMA_VERSION = 2
# Words without a field search `text`: the title (this many times: a title word says more than
# an abstract word), the abstract and the authors in one field, so a word is one posting list
# to score, not a union of four (a common word matches most of the corpus: 21 -> 7 ms for two
# of them at 1M). Categories stay apart, asked only when the word is a category.
TEXT_TITLE_COPIES = 2
CATEGORY_BOOST = 0.5
ID_BOOST = 10.0
# All plain words in order, as a phrase in the title: an exact title comes first.
TITLE_PHRASE_BOOST = 5.0
ABSTRACT_SNIPPET_CHARS = 300
# A title snippet is the whole title (tantivy cuts fragments at this many characters).
TITLE_SNIPPET_CHARS = 4_000
_FIELD_NAMES: dict[Field, str] = {
    "ti": "title",
    "abs": "abstract",
    "au": "authors",
    "cat": "categories",
    "id": "id",
}
_PAGE_BATCH = 10_000
_DAY_SECONDS = 86_400
ResultOrder = Literal["relevance", "date"]
# The any-word ranking (hybrid's keyword side) skips these: on a pasted paragraph they match
# nearly every paper, cost the most to score and say nothing.
_STOP_WORDS_TEXT = """
a an and are as at be been but by can do for from has have how in into is it its of on or our
over so such than that the their them then there these they this those to using via was we were
what when where which while who will with within without
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
ANY_WORDS_FIELDS = {"title": 3.0, "abstract": 1.0}
# The any-word ranking of a long query keeps its this many rarest words (by document frequency):
# the common ones add little to BM25 and cost the most (every paper they are in is scored).
ANY_WORDS_MAX = 24


class CorruptIndex(Exception):
    """The directory holds no readable keyword index (missing, truncated or foreign files)."""


def _analyzers() -> dict[str, TextAnalyzer]:
    words = TextAnalyzerBuilder(Tokenizer.simple()).filter(Filter.remove_long(40))
    folded = words.filter(Filter.lowercase()).filter(Filter.ascii_fold())
    return {
        "dp_text": folded.filter(Filter.stemmer("english")).build(),
        "dp_names": TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build(),
        "dp_category": TextAnalyzerBuilder(Tokenizer.raw()).filter(Filter.lowercase()).build(),
    }


ANALYZERS = _analyzers()
_FIELD_ANALYZER = {
    "title": "dp_text",
    "abstract": "dp_text",
    "authors": "dp_names",
    "categories": "dp_category",
    "text": "dp_text",
}


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("title", tokenizer_name="dp_text")
    builder.add_text_field("abstract", tokenizer_name="dp_text")
    builder.add_text_field("authors", tokenizer_name="dp_names")
    builder.add_text_field("categories", tokenizer_name="dp_category", index_option="basic")
    builder.add_text_field("text", tokenizer_name="dp_text")
    # Seconds since the epoch (0 where unknown): the date order.
    builder.add_integer_field("published", fast=True)
    # Days since the epoch (0 where unknown): date filters, a range over a few thousand terms.
    builder.add_integer_field("day", indexed=True)
    builder.add_integer_field("month", fast=True)  # 202405: matches per month
    builder.add_unsigned_field("change_seq", fast=True)
    return builder.build()


SCHEMA = _schema()


def _register(index: tantivy.Index) -> tantivy.Index:
    for name, analyzer in ANALYZERS.items():
        index.register_tokenizer(name, analyzer)
    return index


def _document(paper: PaperText) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", paper.arxiv_id)
    doc.add_text("title", paper.title)
    doc.add_text("abstract", paper.abstract)
    for name in paper.authors:
        doc.add_text("authors", name)
    for _ in range(TEXT_TITLE_COPIES):
        doc.add_text("text", paper.title)
    doc.add_text("text", paper.abstract)
    for name in paper.authors:
        doc.add_text("text", name)
    for category in _with_archives(paper.categories):
        doc.add_text("categories", category)
    published = paper.published_at
    seconds = int(published.timestamp()) if published else 0
    doc.add_integer("published", seconds)
    doc.add_integer("day", seconds // _DAY_SECONDS)
    if published is not None:
        doc.add_integer("month", published.year * 100 + published.month)
    doc.add_unsigned("change_seq", paper.change_seq)
    return doc


def _with_archives(categories: Iterable[str]) -> list[str]:
    """cs.LG also files under cs, so `cat:cs` finds every computer-science paper."""
    found: dict[str, None] = {}
    for category in categories:
        found.setdefault(category, None)
        found.setdefault(category.split(".", 1)[0], None)
    return list(found)


class KeywordWriter:
    """Adds, replaces and deletes documents in one directory; `commit` makes them durable."""

    def __init__(self, path: Path, *, heap_bytes: int = 128_000_000, threads: int = 1) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = _register(tantivy.Index(SCHEMA, path=str(path), reuse=True))
        except ValueError as exc:
            raise CorruptIndex(str(exc)) from exc
        self._writer = self._index.writer(heap_size=heap_bytes, num_threads=threads)

    def add(self, papers: Iterable[PaperText]) -> int:
        """Add documents for papers not in the index (a rebuild): no delete first."""
        count = 0
        for paper in papers:
            self._writer.add_document(_document(paper))
            count += 1
        return count

    def replace(self, papers: Iterable[PaperText]) -> tuple[int, int]:
        """Replace each paper's document, or delete it when hidden: (written, deleted)."""
        written = deleted = 0
        for paper in papers:
            self._writer.delete_documents_by_term("id", paper.arxiv_id)
            if paper.hidden:
                deleted += 1
            else:
                self._writer.add_document(_document(paper))
                written += 1
        return written, deleted

    def commit(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()


@dataclass(frozen=True, slots=True)
class KeywordHits:
    hits: list[tuple[str, float]]
    total: int


class KeywordSearcher:
    """A read-only view of one directory, opened once and safe to share between threads."""

    def __init__(self, path: Path) -> None:
        try:
            self._index = _register(tantivy.Index.open(str(path)))
            self._searcher = self._index.searcher()
            self._last_text_query: tuple[Query, tantivy.Query | None] | None = None
            self._last_markers: tuple[Query, tuple[_Marker, _Marker] | None] | None = None
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
        self, query: Query, *, limit: int, only_ids: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """The top `limit` papers by BM25 over any of the query's plain words (title and abstract),
        fielded clauses, exclusions and filters still required: hybrid's keyword ranking, which
        a long natural-language query needs (every word required would match nothing)."""
        words: dict[str, None] = {}
        for clause in query.wanted:
            if clause.field is None:
                for token in ANALYZERS["dp_text"].analyze(clause.text):
                    if token not in STOP_WORDS and not token.isdigit():
                        words.setdefault(token, None)
        if not words:
            return []
        if len(words) > ANY_WORDS_MAX:
            frequency = {
                w: sum(self._searcher.doc_freq(f, w) for f in ANY_WORDS_FIELDS) for w in words
            }
            found = sorted((w for w in words if frequency[w]), key=lambda w: frequency[w])
            words = dict.fromkeys(found[:ANY_WORDS_MAX])
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
            if (matcher := _clause_query(clause, self._searcher)) is not None:
                clauses.append((Occur.MustNot if clause.excluded else Occur.Must, matcher))
        for condition in _filters(query, only_ids):
            clauses.append((Occur.Must, tantivy.Query.const_score_query(condition, 0.0)))
        result = self._searcher.search(tantivy.Query.boolean_query(clauses), limit=limit)
        return [(self._id(address), float(score)) for score, address in result.hits]

    def matching_ids(
        self, query: Query, arxiv_ids: Collection[str], *, constraints_only: bool = False
    ) -> set[str]:
        """Which of these papers match `query` (or only its fielded clauses and exclusions)."""
        if not arxiv_ids:
            return set()
        if constraints_only:
            clauses: list[tuple[Occur, tantivy.Query]] = [(Occur.Must, tantivy.Query.all_query())]
            for clause in query.constraints:
                if (matcher := _clause_query(clause, self._searcher)) is not None:
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
            names = [_FIELD_NAMES[clause.field]] if clause.field else ["text", "categories"]
            found = 1 if clause.field is None and is_arxiv_id(clause.text) else 0
            for name in names:
                tokens = ANALYZERS[_FIELD_ANALYZER[name]].analyze(clause.text)
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
            return [(Snippet(title), Snippet(_lead(abstract))) for title, abstract in texts]
        titles, abstracts = markers
        return [
            (titles.title(title), abstracts.fragment(abstract, ABSTRACT_SNIPPET_CHARS))
            for title, abstract in texts
        ]

    def _markers(self, query: Query) -> tuple[_Marker, _Marker] | None:
        """The title and abstract markers of `query`'s wanted words; None: it has none.
        The last query's are kept: a page asks for snippets once per search."""
        last = self._last_markers
        if last is not None and last[0] == query:
            return last[1]
        terms: dict[str, dict[str, float]] = {"title": {}, "abstract": {}}
        for clause in query.wanted:
            fields = {None: ("title", "abstract"), "ti": ("title",), "abs": ("abstract",)}
            for name in fields.get(clause.field, ()):
                for token in ANALYZERS["dp_text"].analyze(clause.text):
                    if token not in terms[name]:
                        frequency = int(self._searcher.doc_freq(name, token))
                        if frequency:  # as tantivy's snippets: rarer words weigh more
                            terms[name][token] = 1.0 / (1.0 + frequency)
        markers = None
        if terms["title"] or terms["abstract"]:
            markers = (_Marker(terms["title"]), _Marker(terms["abstract"]))
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
            if (matcher := _clause_query(clause, self._searcher)) is not None:
                clauses.append((Occur.MustNot, matcher))
        for condition in _filters(query, only_ids):
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
        required = [m for c in query.wanted if (m := _clause_query(c, self._searcher)) is not None]
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


def _clause_query(clause: Clause, searcher: tantivy.Searcher) -> tantivy.Query | None:
    if clause.field == "id":
        return _id_query(clause.text)
    if clause.field is not None:
        return _field_query(_FIELD_NAMES[clause.field], clause.text)
    per_field = []
    if (words := _field_query("text", clause.text)) is not None:
        per_field.append(words)
    category = ANALYZERS["dp_category"].analyze(clause.text)
    if category and searcher.doc_freq("categories", category[0]):  # `physics`, `cs.LG`
        by_category = tantivy.Query.term_query(SCHEMA, "categories", category[0])
        per_field.append(tantivy.Query.boost_query(by_category, CATEGORY_BOOST))
    if is_arxiv_id(clause.text) and (by_id := _id_query(clause.text)) is not None:
        per_field.append(tantivy.Query.boost_query(by_id, ID_BOOST))
    if len(per_field) <= 1:
        return per_field[0] if per_field else None
    return tantivy.Query.boolean_query([(Occur.Should, q) for q in per_field])


def _field_query(name: str, text: str) -> tantivy.Query | None:
    tokens = ANALYZERS[_FIELD_ANALYZER[name]].analyze(text)
    if not tokens:
        return None
    if len(tokens) == 1:
        return tantivy.Query.term_query(SCHEMA, name, tokens[0])
    return tantivy.Query.phrase_query(SCHEMA, name, [*tokens])


def _id_query(text: str) -> tantivy.Query | None:
    try:
        arxiv_id, _ = split_arxiv_id(text)
    except ValueError:
        arxiv_id = text.strip()
    if not arxiv_id:
        return None
    return tantivy.Query.term_query(SCHEMA, "id", arxiv_id)


def _filters(query: Query, only_ids: Collection[str] | None) -> list[tantivy.Query]:
    conditions: list[tantivy.Query] = []
    if query.date_from or query.date_to:
        low = _epoch(query.date_from) // _DAY_SECONDS if query.date_from else None
        high = _epoch(query.date_to) // _DAY_SECONDS if query.date_to else None
        conditions.append(
            tantivy.Query.range_query(
                SCHEMA, "day", tantivy.FieldType.Integer, lower_bound=low, upper_bound=high
            )
        )
    if query.categories:
        values = [c.lower() for c in query.categories]
        conditions.append(tantivy.Query.term_set_query(SCHEMA, "categories", values))
    if only_ids is not None:
        conditions.append(_ids_query(only_ids))
    return conditions


_last_ids_query: tuple[list[str], tantivy.Query] | None = None


def _ids_query(arxiv_ids: Collection[str]) -> tantivy.Query:
    """Documents with one of these ids. The last set's query is kept: a minimum-upvotes filter
    asks for the same few thousand ids search after search (the store reads them live each
    time; only their translation is saved, about 1.5 ms for 5,000)."""
    global _last_ids_query
    ids = list(arxiv_ids)
    last = _last_ids_query
    if last is not None and last[0] == ids:
        return last[1]
    query = tantivy.Query.term_set_query(SCHEMA, "id", ids)
    _last_ids_query = (ids, query)
    return query


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())


# The rest of a word as tantivy's simple tokenizer sees it: a run of letters and digits.
_WORD_REST = re.compile(r"[^\W_]*")


@functools.lru_cache(maxsize=200_000)
def _stem(word: str) -> str | None:
    """The term `word` is indexed as in title and abstract (None: too long to be indexed)."""
    tokens = ANALYZERS["dp_text"].analyze(word)
    return tokens[0] if tokens else None


class _Marker:
    """Finds the words of a text that are indexed as one of `terms` (term -> weight)."""

    def __init__(self, terms: dict[str, float]) -> None:
        self.terms = terms
        # A stem differs from its word in the last two letters at most (happy -> happi,
        # probability -> probabl, using -> use): words starting with the rest are candidates,
        # found with str.find (re's alternations scan each abstract at a tenth of the speed).
        self.prefixes = sorted({t[: max(2, len(t) - 2)] for t in terms})

    def matches(self, text: str) -> list[tuple[int, int, float]]:
        """(start, end, weight) of each word of `text` indexed as one of the terms, in order."""
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter that lowercases to two: offsets would shift
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        found: dict[int, tuple[int, int, float]] = {}
        for prefix in self.prefixes:
            start = lowered.find(prefix)
            while start >= 0:
                if start not in found and (start == 0 or not lowered[start - 1].isalnum()):
                    end = _WORD_REST.match(lowered, start + len(prefix)).end()  # type: ignore[union-attr]
                    stem = _stem(text[start:end])
                    if stem is not None and (weight := self.terms.get(stem)) is not None:
                        found[start] = (start, end, weight)
                start = lowered.find(prefix, start + 1)
        return [found[start] for start in sorted(found)]

    def title(self, text: str) -> Snippet:
        """The whole text, its matching words marked."""
        return Snippet(text, tuple((start, end) for start, end, _ in self.matches(text)))

    def fragment(self, text: str, max_chars: int) -> Snippet:
        """The piece of `text` (at most `max_chars`, cut between words) holding the most weight
        of matching words, them marked; the text's lead where nothing matches. The lead wins
        ties, then the earliest piece."""
        found = self.matches(text)
        if not found:
            return Snippet(_lead(text))
        best_start, best_weight = 0, sum(w for _, end, w in found if end <= max_chars)
        for start, _, _ in found:
            weight = sum(w for s, end, w in found if s >= start and end <= start + max_chars)
            if weight > best_weight + 1e-12:
                best_start, best_weight = start, weight
        if best_start > 0 and len(text) - best_start <= max_chars:
            # A piece that reaches the end: start it where a whole window would.
            best_start = min(best_start, _word_start(text, len(text) - max_chars))
        end = len(text)
        if end - best_start > max_chars:
            cut = text.rfind(" ", best_start, best_start + max_chars)
            end = cut if cut > best_start else best_start + max_chars
        head = "… " if best_start > 0 else ""
        tail = " …" if end < len(text) else ""
        spans = tuple(
            (s - best_start + len(head), e - best_start + len(head))
            for s, e, _ in found
            if s >= best_start and e <= end
        )
        return Snippet(head + text[best_start:end] + tail, spans)


def _word_start(text: str, position: int) -> int:
    """The start of the first word at or after `position`."""
    space = text.find(" ", max(0, position))
    return space + 1 if 0 <= space < len(text) - 1 else max(0, position)


def _lead(text: str) -> str:
    if len(text) <= ABSTRACT_SNIPPET_CHARS:
        return text
    cut = text.rfind(" ", 0, ABSTRACT_SNIPPET_CHARS)
    return text[: cut if cut > 0 else ABSTRACT_SNIPPET_CHARS] + " …"
