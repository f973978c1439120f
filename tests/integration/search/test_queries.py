"""Searching the real sample papers on both backends: ranking, fields, filters, sorts, pages,
snippets, months, and hostile input that must answer or refuse, never crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert

from dailypapers.errors import InvalidRequest
from dailypapers.search import (
    SearchIndex,
    SearchResult,
    catch_up,
    parse_query,
    query_from_params,
    search_papers,
    service,
)
from dailypapers.search.service import open_for_search
from dailypapers.store import Database
from dailypapers.store.schema import users, votes
from tests.integration.search.checks import (
    check_author_search,
    check_category_filter,
    check_date_filter_with_a_rare_term,
    check_exact_titles_come_first,
    every_match,
    scan,
)

Searchable = tuple[Database, SearchIndex]


def test_an_exact_title_finds_its_paper_first(searchable: Searchable) -> None:
    db, index = searchable
    assert check_exact_titles_come_first(db, index, scan(db)) >= 20


def test_au_finds_every_paper_of_an_author(searchable: Searchable) -> None:
    db, index = searchable
    check_author_search(db, index, scan(db))


def test_cat_and_the_category_filter_keep_only_that_category(searchable: Searchable) -> None:
    db, index = searchable
    check_category_filter(db, index, scan(db))


def test_a_date_filter_plus_a_rare_term_returns_every_match(searchable: Searchable) -> None:
    db, index = searchable
    check_date_filter_with_a_rare_term(db, index, scan(db))


def test_a_paper_is_found_by_its_id_with_or_without_the_field(searchable: Searchable) -> None:
    db, index = searchable
    arxiv_id = scan(db)[7].paper.arxiv_id
    for text in (f"id:{arxiv_id}", arxiv_id, f"id:arXiv:{arxiv_id}v3"):
        hits = search_papers(db, index, parse_query(text)).hits
        assert hits[0].paper.arxiv_id == arxiv_id, text


def test_an_exclusion_removes_every_paper_with_the_word(searchable: Searchable) -> None:
    db, index = searchable
    with_word, _ = every_match(db, index, parse_query("diffusion image"))
    without, total = every_match(db, index, parse_query("diffusion -image"))
    all_diffusion, _ = every_match(db, index, parse_query("diffusion"))
    assert set(without) == set(all_diffusion) - set(with_word)
    assert total == len(without) > 0


def test_a_quoted_phrase_matches_its_words_in_order(searchable: Searchable) -> None:
    db, index = searchable
    phrase, _ = every_match(db, index, parse_query('"language models"'))
    loose, _ = every_match(db, index, parse_query("models language"))
    assert 0 < len(phrase) < len(loose)
    assert set(phrase) <= set(loose)


def test_pages_concatenate_to_the_full_ranking(searchable: Searchable) -> None:
    db, index = searchable
    whole = search_papers(db, index, parse_query("learning", limit=60))
    pages = [search_papers(db, index, parse_query("learning", limit=20, page=p)) for p in (1, 2, 3)]
    assert [h.paper.arxiv_id for p in pages for h in p.hits] == [
        h.paper.arxiv_id for h in whole.hits
    ]
    assert {p.total for p in pages} == {whole.total}


def test_date_order_is_newest_first(searchable: Searchable) -> None:
    db, index = searchable
    hits = search_papers(db, index, parse_query("learning", sort="date", limit=50)).hits
    dates = [h.paper.published_at for h in hits]
    assert dates == sorted(dates, reverse=True)


def test_snippets_mark_the_query_words_and_escape_html(searchable: Searchable) -> None:
    db, index = searchable
    hit = search_papers(db, index, parse_query("diffusion")).hits[0]
    assert "<mark>" in hit.abstract.to_html() or "<mark>" in hit.title.to_html()
    for snippet in (hit.title, hit.abstract):
        for start, end in snippet.highlights:
            assert snippet.text[start:end].lower().startswith("diffusion")


def test_months_add_up_to_the_total(searchable: Searchable) -> None:
    db, index = searchable
    result = search_papers(db, index, parse_query("learning"), with_months=True)
    assert sum(m.count for m in result.months) == result.total
    assert [m.month for m in result.months] == sorted(m.month for m in result.months)


def test_the_result_says_how_long_it_took(searchable: Searchable) -> None:
    db, index = searchable
    result = search_papers(db, index, parse_query("learning"))
    assert 0 < result.elapsed_ms < 5_000


HOSTILE = [
    '"unbalanced quote',
    'ti:"unbalanced',
    "AND OR NOT",
    "NOT",
    "*",
    "ti:",
    "au:",
    "id:",
    "id:not-an-id",
    "cat:",
    "-",
    "--",
    ":",
    "((((",
    "a" * 2_000,
    "\x00\x01\x02\x1b[31mred\x7f",
    "\ud800 lone surrogate",
    "🙂 emoji ∑ αβγ שלום",
    "x" * 100_000,
    "title:foo^3 field~2 /regex/ [a TO z] {1 TO 5}",
    " ".join(["graph"] * 500),
]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t[:20]) for t in HOSTILE])
def test_hostile_queries_answer_or_refuse_but_never_crash(
    searchable: Searchable, text: str
) -> None:
    db, index = searchable
    try:
        query = query_from_params({"q": text})
    except InvalidRequest:
        assert len(text) > 2_000
        return
    result = search_papers(db, index, query, with_months=True)
    assert result.total >= len(result.hits)


@pytest.mark.parametrize(
    "params",
    [{"limit": "121"}, {"limit": "0"}, {"page": "-1"}, {"from": "garbage"}, {"sort": "random"}],
)
def test_out_of_range_parameters_are_refused(params: dict[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        query_from_params({"q": "graphs", **params})


def test_upvote_filters_and_order_use_live_votes_without_reindexing(
    sample_db: Database, index: SearchIndex
) -> None:
    built = catch_up(sample_db, index)
    ranked = search_papers(sample_db, index, parse_query("learning", sort="upvotes", limit=100))
    counts = [h.paper.upvotes for h in ranked.hits]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > 0

    everything, _ = every_match(sample_db, index, parse_query("learning", sort="date"))
    oldest = search_papers(sample_db, index, parse_query(f"id:{everything[-1]}")).hits[0]
    outsider = oldest.paper
    assert outsider.upvotes == 0
    filtered = search_papers(sample_db, index, parse_query("learning", min_upvotes=counts[0] + 1))
    assert filtered.total == 0
    _vote(sample_db, outsider.arxiv_id, voters=counts[0] + 1)

    filtered = search_papers(sample_db, index, parse_query("learning", min_upvotes=counts[0] + 1))
    assert [h.paper.arxiv_id for h in filtered.hits] == [outsider.arxiv_id]
    assert filtered.total == 1
    ranked = search_papers(sample_db, index, parse_query("learning", sort="upvotes"))
    assert ranked.hits[0].paper.arxiv_id == outsider.arxiv_id
    assert catch_up(sample_db, index).generation == built.generation


def test_the_upvote_order_pages_through_voted_then_unvoted_papers(searchable: Searchable) -> None:
    db, index = searchable
    found, total = every_match(db, index, parse_query("learning", sort="upvotes"))
    plain, plain_total = every_match(db, index, parse_query("learning"))
    assert total == plain_total == len(found)
    assert sorted(found) == sorted(plain)


@pytest.mark.parametrize(
    "options", [{"min_upvotes": 3}, {"sort": "upvotes"}, {"min_upvotes": 2, "sort": "date"}]
)
def test_joining_counts_on_candidates_or_reading_the_upvoted_set_agree(
    searchable: Searchable, monkeypatch: pytest.MonkeyPatch, options: dict[str, object]
) -> None:
    db, index = searchable
    query = parse_query("learning", limit=120, **options)  # type: ignore[arg-type]
    monkeypatch.setattr(service, "CANDIDATE_JOIN_LIMIT", 100_000)
    joined = search_papers(db, index, query, with_months=True)
    monkeypatch.setattr(service, "CANDIDATE_JOIN_LIMIT", 0)
    from_set = search_papers(db, index, query, with_months=True)
    assert joined.total == from_set.total > 0
    # The chart counts what the total counts, minimum upvotes included, on either path.
    assert joined.months == from_set.months
    assert sum(m.count for m in joined.months) == joined.total

    def order(result: SearchResult) -> list[object]:  # ties may fall either way
        if query.sort == "upvotes":
            return [h.paper.upvotes for h in result.hits]
        if query.sort == "date":
            return [h.paper.published_at for h in result.hits]
        return [round(h.score, 3) for h in result.hits]

    assert order(joined) == order(from_set)
    assert all(h.paper.upvotes >= query.min_upvotes for h in joined.hits if query.min_upvotes)


def _vote(db: Database, arxiv_id: str, voters: int) -> None:
    at = datetime(2026, 9, 1, tzinfo=UTC)
    with db.write() as conn:
        for n in range(voters):
            user_id = conn.execute(
                insert(users).values(username=f"voter{n}", created_at=at).returning(users.c.id)
            ).scalar_one()
            conn.execute(insert(votes).values(user_id=user_id, arxiv_id=arxiv_id, created_at=at))


def test_a_pasted_paragraph_marks_its_content_words_not_its_stop_words(
    searchable: Searchable,
) -> None:
    db, index = searchable
    papers = [h.paper for h in search_papers(db, index, parse_query("diffusion image")).hits]
    assert papers
    keyword = open_for_search(db, index).keyword
    words = "We study diffusion models with guidance in the setting of the image generation task"
    snippets = keyword.snippets_for(parse_query(words), [(p.title, p.abstract) for p in papers])
    marked = {
        snippet.text[start:end].lower()
        for pair in snippets
        for snippet in pair
        for start, end in snippet.highlights
    }
    assert {"diffusion", "image"} <= marked, marked
    assert not marked & {"with", "in", "the", "of", "we"}, marked
    # A query of stop words alone still marks them: there is nothing else to show.
    alone = keyword.snippets_for(parse_query("the"), [(p.title, p.abstract) for p in papers])
    assert any(snippet.highlights for pair in alone for snippet in pair)
