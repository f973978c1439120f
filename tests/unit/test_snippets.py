"""Snippets: the query's words marked in a title and a piece of the abstract (keyword's
snippets.Marker), found by prefix and confirmed by the index's own stemmer."""

from __future__ import annotations

from dailypapers.search.keyword.schema import ANALYZERS
from dailypapers.search.keyword.snippets import Marker


def _marker(*words: str) -> Marker:
    return Marker({ANALYZERS["dp_text"].analyze(w)[0]: 1.0 for w in words})


def _marked(text: str, spans: tuple[tuple[int, int], ...]) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_a_title_is_whole_with_every_form_of_the_words_marked() -> None:
    snippet = _marker("diffusion", "models").title("Diffusion Models and a diffused modest model")
    assert snippet.text == "Diffusion Models and a diffused modest model"
    # "diffused" stems to "diffus" too; "modest" starts like "model" but is another word.
    assert _marked(snippet.text, snippet.highlights) == ["Diffusion", "Models", "diffused", "model"]


def test_stems_that_are_not_a_prefix_of_their_word_are_found() -> None:
    snippet = _marker("happy", "probability", "using").title("Happy probabilities, used")
    assert _marked(snippet.text, snippet.highlights) == ["Happy", "probabilities", "used"]


def test_words_inside_other_words_are_not_marked() -> None:
    snippet = _marker("net").title("A subnet of networks, the net, net-work")
    assert _marked(snippet.text, snippet.highlights) == ["net", "net"]


def test_the_abstract_shows_the_lead_when_the_words_are_in_it() -> None:
    text = "Graph networks learn. " + "Filler words go on and on. " * 30
    snippet = _marker("graph").fragment(text, 300)
    assert snippet.text.startswith("Graph networks learn.")
    assert snippet.text.endswith(" …") and len(snippet.text) <= 302
    assert _marked(snippet.text, snippet.highlights) == ["Graph"]


def test_the_abstract_shows_the_piece_holding_the_words_when_they_are_far_in() -> None:
    text = "Filler words go on and on. " * 30 + "Here graph networks meet graph theory. The end."
    snippet = _marker("graph", "theory").fragment(text, 300)
    assert snippet.text.startswith("… ")
    assert len(snippet.text) <= 302
    assert _marked(snippet.text, snippet.highlights) == ["graph", "graph", "theory"]
    assert snippet.text.endswith("The end.")


def test_an_abstract_without_the_words_shows_its_lead_unmarked() -> None:
    text = "Nothing to see here. " * 30
    snippet = _marker("graph").fragment(text, 300)
    assert snippet.highlights == ()
    assert text.startswith(snippet.text.removesuffix(" …"))
