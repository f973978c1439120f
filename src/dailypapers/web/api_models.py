"""Response models of the JSON API, for /openapi.json and the tests that check bodies against it.

Handlers build plain dicts (hf_json.py) for speed; tests validate those dicts with these models.
Field names are snake_case here and camelCase on the wire, as Hugging Face spells them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class HfUser(_Model):
    id: str = Field(alias="_id", description="Stable 24-hex id.")
    avatar_url: str
    fullname: str
    user: str = Field(description="Username (what huggingface_hub reads).")
    name: str
    type: str
    is_pro: bool


class HfAuthor(_Model):
    id: str = Field(alias="_id")
    name: str
    hidden: bool


class HfPaper(_Model):
    id: str = Field(description="arXiv id without version, e.g. 2407.21783 or hep-th/9901001.")
    authors: list[HfAuthor]
    published_at: str | None = Field(description="arXiv publication time (UTC, ms, Z).")
    submitted_on_daily_at: str | None = Field(description="Midnight UTC of the featured day.")
    title: str
    submitted_on_daily_by: HfUser | None
    summary: str = Field(description="The abstract.")
    upvotes: int
    discussion_id: str
    github_repo: str | None
    project_page: str | None
    num_comments: int
    withdrawn_at: str | None = None


class HfDailyEntry(_Model):
    paper: HfPaper
    published_at: str | None = Field(description="When the paper went on the daily list.")
    title: str
    summary: str
    thumbnail: str | None
    num_comments: int
    submitted_by: HfUser | None
    organization: None
    is_author_participating: bool
    upvotes: int
    github_repo: str | None
    project_page: str | None


class HfSearchEntry(HfDailyEntry):
    score: float = Field(description="Ranking score; higher is more relevant.")
    snippet: str = Field(
        description="Best-matching passage of the abstract, HTML-escaped, matches in <mark>."
    )


class HfSimilarEntry(HfDailyEntry):
    similarity: float = Field(description="Cosine similarity of the two papers' vectors.")


class HfArxivRepos(_Model):
    """What cites a paper (Hugging Face's /api/arxiv/{id}/repos), plus its links."""

    models: list[dict[str, Any]] = Field(description="Always empty: this hub hosts no models.")
    datasets: list[dict[str, Any]] = Field(description="Always empty: no datasets here.")
    spaces: list[dict[str, Any]] = Field(description="Always empty: no Spaces here.")
    github_repo: str | None = Field(description="The paper's code repository, if known.")
    project_page: str | None = Field(description="The paper's project page, if known.")


class ErrorDetail(_Model):
    code: str = Field(description="bad_request, not_found, internal_error, ...")
    message: str


class ErrorBody(_Model):
    error: ErrorDetail


class Health(_Model):
    status: str
    latest_featured_day: str | None = Field(alias="latest_featured_day")


class VoteResult(_Model):
    id: str = Field(description="arXiv id of the paper voted on.")
    upvoted: bool = Field(description="Whether your token's account now upvotes it.")
    upvotes: int = Field(description="The paper's shown count: imported baseline plus local votes.")


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
TOO_MANY: dict[str, object] = {
    "model": ErrorBody,
    "description": "Too many requests from your address (see Retry-After).",
    "headers": _RETRY_AFTER,
}
UNAVAILABLE: dict[str, object] = {
    "model": ErrorBody,
    "description": "The store or an upstream is unavailable; try again later.",
}
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A malformed or out-of-range parameter."},
    404: {"model": ErrorBody, "description": "Unknown paper or page."},
    429: TOO_MANY,
    503: UNAVAILABLE,
}
# Operations that need a personal API token (Authorization: Bearer dp_…).
TOKEN_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "No API token, or an unknown or revoked one."},
}
# The markdown form is not JSON: its errors are the site's HTML error page.
_HTML_ERROR = {"text/html": {"schema": {"type": "string"}}}
HTML_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"content": _HTML_ERROR, "description": "A malformed parameter."},
    404: {"content": _HTML_ERROR, "description": "Unknown paper, author or feed."},
    429: {"content": _HTML_ERROR, "description": TOO_MANY["description"], "headers": _RETRY_AFTER},
    503: {"content": _HTML_ERROR, "description": UNAVAILABLE["description"]},
}
# Feeds' errors are one line of plain text: a feed reader shows neither a page nor JSON.
_TEXT_ERROR = {"text/plain": {"schema": {"type": "string"}}}
TEXT_ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"content": _TEXT_ERROR, "description": "A malformed parameter."},
    404: {"content": _TEXT_ERROR, "description": "Unknown author or feed."},
    429: {"content": _TEXT_ERROR, "description": TOO_MANY["description"], "headers": _RETRY_AFTER},
    503: {
        "content": _TEXT_ERROR,
        "description": "The store is unavailable; try again later (see Retry-After).",
        "headers": _RETRY_AFTER,
    },
}


# Shapes of the period parameters; the calendar check (e.g. no month 13) is parse_period's.
DAY_PATTERN = r"^(\d{4}-\d{2}-\d{2})?$"
WEEK_PATTERN = r"^(\d{4}-W\d{2})?$"
MONTH_PATTERN = r"^(\d{4}-\d{2})?$"


def paper_links(arxiv_id: str, *, get: bool = True) -> dict[str, object]:
    """OpenAPI links from a response naming a paper (`arxiv_id`: a runtime expression) to the
    operations on that paper: clients and stateful fuzzers follow them."""
    targets = {
        "Similar": "similarPapers",
        "Markdown": "paperMarkdown",
        "Repos": "arxivRepos",
        "Upvote": "upvotePaper",
        "Unvote": "unvotePaper",
    }
    if get:
        targets = {"Paper": "getPaper", **targets}
    return {
        name: {"operationId": operation, "parameters": {"arxiv_id": arxiv_id}}
        for name, operation in targets.items()
    }


def tidy_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Drop FastAPI's automatic 422 answers: a bad parameter is a 400 here (see web/errors.py),
    which every operation declares, so the document lists only statuses the server sends."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" in schemas and "HTTPValidationError" not in str(document["paths"]):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document
