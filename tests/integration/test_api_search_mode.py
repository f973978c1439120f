"""`/api/papers/search` takes the search page's `mode` (#17), on a live server whose index has
vectors (a deterministic hashed-words embedder: the plumbing, not the model's quality)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import httpx
import pytest

from dailypapers.search import SearchIndex, catch_up
from dailypapers.search.embedder import HashEmbedder
from dailypapers.search.keyword import STOP_WORDS as STOP
from dailypapers.search.paper_vectors import embed_missing, refresh_vectors
from tests.factories import EXACT_MAX_ROWS, semantic_config
from tests.integration.web_server import LiveServer, build_services, populate, serve

EMBEDDER = HashEmbedder(dim=64)
# No paper has the last word: every word required (keyword) finds nothing; meaning does.
WORDS = "diffusion video generation zzzunknownword"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("api-mode")
    services = build_services(tmp / "data")
    populate(services, tmp)
    index = SearchIndex(
        tmp / "semantic-index",
        reopen_check_seconds=0.0,
        semantic=semantic_config(EMBEDDER, min_similarity=0.2),
    )
    catch_up(services.db, index)
    embed_missing(services.db, EMBEDDER)
    refresh_vectors(services.db, index, EMBEDDER.model_id, EMBEDDER.dim, exact_max=EXACT_MAX_ROWS)
    services = dataclasses.replace(services, search_index=index)
    with serve(services) as live:
        yield live
    services.close()


def _search(server: LiveServer, **params: str) -> httpx.Response:
    with server.client() as client:
        return client.get("/api/papers/search", params={"q": WORDS, **params})


def test_each_mode_answers_and_says_which_ran(server: LiveServer) -> None:
    keyword = _search(server, mode="keyword")
    hybrid = _search(server, mode="hybrid")
    semantic = _search(server, mode="semantic")
    default = _search(server)
    assert (keyword.headers["x-search-mode"], keyword.json()) == ("keyword", [])
    assert hybrid.headers["x-search-mode"] == "hybrid" and hybrid.json()
    assert semantic.headers["x-search-mode"] == "semantic" and semantic.json()
    assert default.headers["x-search-mode"] == "hybrid"
    assert [e["paper"]["id"] for e in default.json()] == [e["paper"]["id"] for e in hybrid.json()]


def test_a_fielded_query_runs_by_keyword_and_says_so(server: LiveServer) -> None:
    with server.client() as client:
        answer = client.get("/api/papers/search", params={"q": "ti:diffusion", "mode": "semantic"})
    assert answer.status_code == 200
    assert answer.headers["x-search-mode"] == "keyword"


def test_an_unknown_mode_is_a_json_400_and_the_openapi_lists_the_modes(
    server: LiveServer,
) -> None:
    bad = _search(server, mode="magic")
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_request"
    with server.client() as client:
        spec = client.get("/openapi.json").json()
    params = spec["paths"]["/api/papers/search"]["get"]["parameters"]
    mode = next(p for p in params if p["name"] == "mode")
    assert set(mode["schema"]["enum"]) == {"keyword", "semantic", "hybrid"}
    assert mode["schema"]["default"] == "hybrid"


PARAGRAPH = (
    "I am looking for methods that generate video with diffusion models under a tight compute "
    "budget, evaluated on public benchmarks, ideally with code I can run on one machine."
)


def test_the_search_page_says_how_it_read_a_paragraph(server: LiveServer) -> None:
    with server.client() as client:
        html = client.get("/search", params={"q": PARAGRAPH}).text
        short = client.get("/search", params={"q": "diffusion video"}).text
        strict = client.get("/search", params={"q": PARAGRAPH, "mode": "keyword"}).text
    read = re.search(r"Read as a description: searched by meaning and by (\d+) of its words", html)
    assert read is not None
    content = {w for w in re.findall(r"[a-z]+", PARAGRAPH.lower()) if w not in STOP}
    assert 0 < int(read[1]) <= len(content)
    assert 'class="reading"' not in short
    assert "Keyword search wants every word in one paper" in strict
