"""Response models of the JSON API, for /openapi.json and the tests that check bodies against it.

Handlers build plain dicts (hf_json.py) for speed; tests validate those dicts with these models.
Field names are snake_case here and camelCase on the wire, as Hugging Face spells them.
"""

from __future__ import annotations

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


class ErrorDetail(_Model):
    code: str = Field(description="bad_request, not_found, internal_error, ...")
    message: str


class ErrorBody(_Model):
    error: ErrorDetail


class Health(_Model):
    status: str
    latest_featured_day: str | None = Field(alias="latest_featured_day")


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "A malformed or out-of-range parameter."},
    404: {"model": ErrorBody, "description": "Unknown paper or page."},
}
