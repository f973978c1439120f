"""Query translation: a `Query`'s clauses and filters as tantivy queries."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time

import tantivy
from tantivy import Occur

from dailypapers.domain import is_arxiv_id, split_arxiv_id
from dailypapers.search.keyword.schema import (
    ANALYZERS,
    CATEGORY_BOOST,
    DAY_SECONDS,
    FIELD_ANALYZER,
    FIELD_NAMES,
    ID_BOOST,
    SCHEMA,
)
from dailypapers.search.query import Clause, Query


def clause_query(clause: Clause, searcher: tantivy.Searcher) -> tantivy.Query | None:
    if clause.field == "id":
        return _id_query(clause.text)
    if clause.field is not None:
        return _field_query(FIELD_NAMES[clause.field], clause.text)
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
    tokens = ANALYZERS[FIELD_ANALYZER[name]].analyze(text)
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


def filters(query: Query, only_ids: Collection[str] | None) -> list[tantivy.Query]:
    conditions: list[tantivy.Query] = []
    if query.date_from or query.date_to:
        low = _epoch(query.date_from) // DAY_SECONDS if query.date_from else None
        high = _epoch(query.date_to) // DAY_SECONDS if query.date_to else None
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
