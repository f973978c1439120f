"""The search query language: lenient parsing, limits, filters and URL round trips."""

from __future__ import annotations

from datetime import date

import pytest

from dailypapers.errors import InvalidRequest
from dailypapers.search.query import (
    MAX_CLAUSES,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    Clause,
    parse_query,
    query_from_params,
)


def test_plain_words_phrases_and_exclusions_become_clauses():
    query = parse_query('diffusion "language model" -survey')
    assert query.clauses == (
        Clause("diffusion"),
        Clause("language model", phrase=True),
        Clause("survey", excluded=True),
    )


def test_field_prefixes_apply_to_a_word_or_a_phrase():
    query = parse_query(
        'ti:attention au:"Geoffrey Hinton" abs:graph cat:cs.LG id:2401.00001 -au:smith'
    )
    assert query.clauses == (
        Clause("attention", field="ti"),
        Clause("Geoffrey Hinton", field="au", phrase=True),
        Clause("graph", field="abs"),
        Clause("cs.LG", field="cat"),
        Clause("2401.00001", field="id"),
        Clause("smith", field="au", excluded=True),
    )


def test_field_prefixes_ignore_case():
    assert parse_query("TI:attention").clauses == (Clause("attention", field="ti"),)


def test_an_unknown_field_is_a_plain_word():
    assert parse_query("title:attention").clauses == (Clause("title:attention"),)


def test_a_field_prefix_alone_degrades_to_a_plain_word():
    assert parse_query("ti:").clauses == (Clause("ti"),)
    assert parse_query("ti: attention").clauses == (Clause("ti"), Clause("attention"))


def test_an_unbalanced_quote_degrades_to_plain_words():
    assert parse_query('"language model').clauses == (Clause("language"), Clause("model"))
    assert parse_query('ti:"language model').clauses == (Clause("language"), Clause("model"))


def test_an_empty_phrase_is_dropped():
    assert parse_query('"" graphs').clauses == (Clause("graphs"),)


def test_not_negates_the_next_clause_and_and_or_are_not_operators():
    query = parse_query("graphs AND transformers NOT vision OR audio")
    assert query.clauses == (
        Clause("graphs"),
        Clause("transformers"),
        Clause("vision", excluded=True),
        Clause("audio"),
    )


def test_a_lone_dash_or_plus_is_not_an_exclusion():
    assert parse_query("- graphs + nets").clauses == (
        Clause("-"),
        Clause("graphs"),
        Clause("+"),
        Clause("nets"),
    )


def test_control_characters_and_line_breaks_become_spaces():
    query = parse_query("graph\x00neural\x1b[31m\nnets\u2028x")
    assert query.text == "graph neural [31m nets x"
    assert "\x00" not in query.text


def test_text_with_nothing_searchable_is_marked_blank_but_an_empty_query_browses():
    assert parse_query("").is_browse
    assert not parse_query("").blank_text
    assert parse_query('""').blank_text


def test_clauses_past_the_cap_are_dropped():
    query = parse_query(" ".join(f"w{i}" for i in range(MAX_CLAUSES + 10)))
    assert len(query.clauses) == MAX_CLAUSES


def test_a_query_over_the_character_limit_is_refused():
    parse_query("a" * MAX_QUERY_CHARS)
    with pytest.raises(InvalidRequest, match="2,000"):
        parse_query("a" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(InvalidRequest):
        query_from_params({"q": "x" * 100_000})


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1])
def test_a_limit_out_of_range_is_refused(limit):
    with pytest.raises(InvalidRequest, match="limit"):
        parse_query("graphs", limit=limit)


def test_deep_pages_and_unknown_sorts_are_refused():
    with pytest.raises(InvalidRequest, match="page"):
        parse_query("graphs", page=100_000)
    with pytest.raises(InvalidRequest, match="sort"):
        parse_query("graphs", sort="random")


def test_filters_are_kept_and_reversed_dates_are_swapped():
    query = parse_query(
        "graphs",
        date_from=date(2024, 6, 1),
        date_to=date(2024, 1, 1),
        categories=["cs.LG", "cs.LG", "stat.ML"],
        min_upvotes=5,
        sort="upvotes",
        page=3,
        limit=10,
    )
    assert (query.date_from, query.date_to) == (date(2024, 1, 1), date(2024, 6, 1))
    assert query.categories == ("cs.LG", "stat.ML")
    assert (query.min_upvotes, query.sort, query.offset) == (5, "upvotes", 20)


def test_url_parameters_round_trip():
    params = {
        "q": 'ti:"graph nets" -survey',
        "from": "2024-01-01",
        "to": "2024-06-30",
        "cat": "cs.LG,stat.ML",
        "min_upvotes": "3",
        "sort": "date",
        "page": "2",
        "limit": "50",
    }
    query = query_from_params(params)
    assert query.to_params() == params
    assert query_from_params(query.to_params()) == query


def test_a_month_or_year_stands_for_its_first_or_last_day():
    query = query_from_params({"from": "2024-02", "to": "2024-02"})
    assert (query.date_from, query.date_to) == (date(2024, 2, 1), date(2024, 2, 29))
    query = query_from_params({"from": "2023", "to": "2023"})
    assert (query.date_from, query.date_to) == (date(2023, 1, 1), date(2023, 12, 31))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("from", "yesterday"),
        ("to", "2024-13-01"),
        ("limit", "-1"),
        ("page", "two"),
        ("min_upvotes", "1e9"),
    ],
)
def test_unreadable_parameters_are_refused_clearly(name, value):
    with pytest.raises(InvalidRequest, match=name):
        query_from_params({"q": "graphs", name: value})


def test_clauses_render_back_to_the_syntax():
    rendered = [c.render() for c in parse_query('-ti:"graph nets" au:smith x').clauses]
    assert rendered == ['-ti:"graph nets"', "au:smith", "x"]
