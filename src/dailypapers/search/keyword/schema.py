"""The keyword index's schema: fields, analyzers, stop words, weights and how a paper becomes a
document. Bump SCHEMA_VERSION when any of it changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import tantivy
from tantivy import Filter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

from dailypapers.search.query import Field
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
FIELD_NAMES: dict[Field, str] = {
    "ti": "title",
    "abs": "abstract",
    "au": "authors",
    "cat": "categories",
    "id": "id",
}
_PAGE_BATCH = 10_000
DAY_SECONDS = 86_400
ResultOrder = Literal["relevance", "date"]
# The any-word ranking (hybrid's keyword side) skips these: on a pasted paragraph they match
# nearly every paper, cost the most to score and say nothing.
_STOP_WORDS_TEXT = """
a an and are as at be been but by can do for from has have how in into is it its of on or our
over so such than that the their them then there these they this those to using via was we were
what when where which while who will with within without
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Hybrid's BM25 side: title and abstract, the title counting a little more (a title word says more
# about the paper than an abstract word, but a 3x title boost let one shared title word outrank a
# paragraph of matching abstract words on long queries: bench/results/search_quality.md).
ANY_WORDS_FIELDS = {"title": 1.5, "abstract": 1.0}
# A bound on the words the any-word ranking scores, for cost only: a 2,000-character query has
# about 150 distinct content words; past this many the rarest are kept.
ANY_WORDS_MAX = 200


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
# The stop words as the text fields index them ("was" -> "wa", "using" -> "use"), and as typed.
STOP_TERMS = STOP_WORDS | frozenset(
    term for word in STOP_WORDS for term in ANALYZERS["dp_text"].analyze(word)
)
FIELD_ANALYZER = {
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


def register(index: tantivy.Index) -> tantivy.Index:
    for name, analyzer in ANALYZERS.items():
        index.register_tokenizer(name, analyzer)
    return index


def document(paper: PaperText) -> tantivy.Document:
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
    doc.add_integer("day", seconds // DAY_SECONDS)
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
