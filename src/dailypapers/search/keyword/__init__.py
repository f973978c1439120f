"""The keyword index in one tantivy directory: its schema and analyzers (schema.py), writing
(writer.py), reading (searcher.py), query translation (translation.py) and snippet marking
(snippets.py). The only package that imports tantivy.

It knows nothing of generations, locks or the store: `search/index.py` decides where and when.
"""

from dailypapers.search.keyword.schema import SCHEMA_VERSION, STOP_WORDS, CorruptIndex
from dailypapers.search.keyword.searcher import KeywordHits, KeywordSearcher, open_searcher
from dailypapers.search.keyword.writer import KeywordWriter

__all__ = [
    "SCHEMA_VERSION",
    "STOP_WORDS",
    "CorruptIndex",
    "KeywordHits",
    "KeywordSearcher",
    "KeywordWriter",
    "open_searcher",
]
