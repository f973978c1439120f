"""What cites a paper (`/api/arxiv/{id}/repos`) and the paper as markdown (`/papers/{id}.md`),
read through the real huggingface_hub client where it has a function for the URL.

huggingface_hub 2.4 calls `GET {endpoint}/papers/{id}.md` from `HfApi.read_paper` (and
`hf papers read`) and returns the body as text. It has no function for `/api/arxiv/{id}/repos`,
so that one is read with httpx, as other HF clients and the Hub's docs use it.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError
from markdown_it import MarkdownIt

from dailypapers.ingest.importer import import_file
from dailypapers.web.api_models import ErrorBody, HfArxivRepos
from tests.integration.web_server import (
    OLD_STYLE_ID,
    LiveServer,
    build_services,
    populate,
    serve,
)

LINKED_ID = "2605.00003"
CODE = "https://github.com/example/linked-paper"
PROJECT = "https://example.org/linked-paper/"
HTML_TITLE = "<script>alert('md')</script> Linked <b>Bold</b> &amp; Co"
HTML_ABSTRACT = (
    'An abstract with <img src=x onerror="alert(1)">, a [link](javascript:alert(2)), '
    "<!-- a comment --> and a plain a < b & c."
)
HTML_AUTHOR = "Eve <i>Italic</i>"
# Featured on a day before the sample's range and the hostile records' day.
LINKED = {
    "arxiv_id": LINKED_ID,
    "title": HTML_TITLE,
    "abstract": HTML_ABSTRACT,
    "authors": ["Ada Linked", HTML_AUTHOR],
    "published": "2026-04-30",
    "daily_date": "2026-05-01",
    "upvotes": 3,
    "num_comments": 0,
    "github": CODE,
    "project_page": PROJECT,
}
BAD_IDS = (
    "not-an-id",
    "2101.99999v",
    "2101",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "%3Cscript%3E",
    "9" * 500,
    "☃",
    "hep-th/",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The sample plus one paper with a code repository, a project page and markup in its text."""
    tmp: Path = tmp_path_factory.mktemp("repos")
    services = build_services(tmp / "data")
    populate(services, tmp)
    extra = tmp / "linked.jsonl.gz"
    with gzip.open(extra, "wt", encoding="utf-8") as out:
        out.write(json.dumps(LINKED) + "\n")
    assert import_file(services.db, extra, parse_in_subprocess=False).counts.rejects == 0
    with serve(services) as live:
        yield live
    services.close()


@pytest.fixture
def api(server: LiveServer) -> HfApi:
    return HfApi(endpoint=server.url, token=False)


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


class _Rendered(HTMLParser):
    """The elements and text a browser would get from the markdown rendered to HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.comments: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name in ("href", "src")]

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _rendered(markdown: str) -> _Rendered:
    # CommonMark with raw HTML passed through, as a careless consumer would render it.
    parser = _Rendered()
    parser.feed(MarkdownIt("commonmark", {"html": True}).render(markdown))
    parser.close()
    return parser


def test_repos_lists_no_hub_repos_and_the_papers_code_and_project_page(
    http: httpx.Client,
) -> None:
    response = http.get(f"/api/arxiv/{LINKED_ID}/repos")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "models": [],
        "datasets": [],
        "spaces": [],
        "githubRepo": CODE,
        "projectPage": PROJECT,
    }
    HfArxivRepos.model_validate(response.json())
    assert response.headers["cache-control"] == "public, max-age=300"  # as /api/papers/{id}
    again = http.get(
        f"/api/arxiv/{LINKED_ID}/repos", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_repos_takes_versions_and_old_style_ids_and_is_null_without_links(
    http: httpx.Client,
) -> None:
    assert http.get(f"/api/arxiv/{LINKED_ID}v2/repos").json()["githubRepo"] == CODE
    old = http.get(f"/api/arxiv/{OLD_STYLE_ID}/repos")
    assert old.status_code == 200
    assert old.json() == {
        "models": [],
        "datasets": [],
        "spaces": [],
        "githubRepo": None,
        "projectPage": None,
    }


def test_repos_of_an_unknown_paper_is_a_json_404(http: httpx.Client) -> None:
    response = http.get("/api/arxiv/2101.99999/repos")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    error = ErrorBody.model_validate(response.json()).error
    assert error.code == "not_found"
    assert error.message == "paper 2101.99999 is not in this hub"  # not "no page at this address"


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_repos_of_a_malformed_id_is_a_clean_client_error(http: httpx.Client, bad_id: str) -> None:
    response = http.get(f"/api/arxiv/{bad_id}/repos")
    assert response.status_code in (400, 404), response.text[:300]
    error = ErrorBody.model_validate(response.json()).error
    assert error.code in ("bad_request", "not_found")
    # The route answered, about the id, rather than no route matching the path.
    assert "arXiv identifier" in error.message or "not in this hub" in error.message, error


def test_repos_is_documented_in_the_openapi_document(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    operation = document["paths"]["/api/arxiv/{arxiv_id}/repos"]["get"]
    assert operation["operationId"] == "arxivRepos"
    assert "HfArxivRepos" in json.dumps(operation["responses"]["200"])
    assert {"400", "404", "429", "503"} <= set(operation["responses"])
    # A listed paper links to it, so clients and the stateful fuzzer can follow.
    links = document["paths"]["/api/daily_papers"]["get"]["responses"]["200"]["links"]
    assert links["Repos"]["operationId"] == "arxivRepos"


def test_read_paper_gives_the_paper_as_markdown(api: HfApi) -> None:
    markdown = api.read_paper(LINKED_ID)
    assert markdown.startswith("# ")
    rendered = _rendered(markdown)
    assert "Linked Bold & Co" not in rendered.text  # the title's markup is not applied...
    assert HTML_TITLE in rendered.text  # ...it is shown as typed
    assert HTML_ABSTRACT in rendered.text
    assert f"Ada Linked, {HTML_AUTHOR}" in rendered.text
    assert "2026-04-30" in markdown  # published
    assert f"(https://arxiv.org/abs/{LINKED_ID})" in markdown
    assert f"- Code: {CODE}" in markdown
    assert f"- Project page: {PROJECT}" in markdown
    assert api.read_paper(f"{LINKED_ID}v1") == markdown


def test_markdown_keeps_html_in_the_title_and_abstract_inert(
    api: HfApi, http: httpx.Client
) -> None:
    rendered = _rendered(api.read_paper(LINKED_ID))
    assert not rendered.tags & {"script", "img", "b", "i", "iframe", "svg"}, rendered.tags
    assert rendered.comments == []
    assert not [h for h in rendered.hrefs if h.lower().startswith("javascript:")]
    response = http.get(f"/papers/{LINKED_ID}.md")
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=300"


def test_read_paper_of_an_unknown_or_malformed_id_raises_a_404(api: HfApi) -> None:
    for bad_id in ("2101.99999", "not-an-id", "2101.99999v"):
        with pytest.raises(HfHubHTTPError) as caught:
            api.read_paper(bad_id)
        assert caught.value.response.status_code == 404, bad_id
