"""Papers in Hugging Face's papers-API shape, so HfApi, `hf papers` and bots work unchanged.

Field names and client quirks: shared/research/anchors.md §(d). huggingface_hub reads title,
numComments, githubRepo and projectPage from the top level only, and `upvotes` falls back to the
top level when the nested count is 0, so entries carry those at both levels.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from dailypapers.domain import Paper, baseline_cast_at


def hex_id(kind: str, key: str) -> str:
    """A stable 24-hex id (HF's Mongo-style `_id`) derived from what it names."""
    return hashlib.sha1(f"{kind}:{key}".encode()).hexdigest()[:24]


def hf_time(value: datetime | None) -> str | None:
    """HF's timestamp form: 2025-02-16T20:33:59.000Z (UTC, milliseconds, Z)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"


def hf_user(name: str, base_url: str) -> dict[str, Any]:
    # huggingface_hub's User reads the username from `user`; HF itself also sends `name`.
    return {
        "_id": hex_id("user", name),
        "avatarUrl": f"{base_url}/static/avatar.svg",
        "fullname": name,
        "user": name,
        "name": name,
        "type": "user",
        "isPro": False,
    }


def _featured_at(paper: Paper) -> str | None:
    return hf_time(baseline_cast_at(paper.featured.featured_on)) if paper.featured else None


def _withdrawn_at(paper: Paper) -> str | None:
    if not paper.is_withdrawn:
        return None
    latest = next(v for v in paper.versions if v.version == paper.latest_version)
    return hf_time(latest.submitted_at or paper.updated_at or paper.published_at)


def paper_object(paper: Paper, base_url: str) -> dict[str, Any]:
    """The paper object: nested in daily entries, and the body of /api/papers/{id}."""
    submitter = paper.featured.submitter_name if paper.featured else None
    obj: dict[str, Any] = {
        "id": paper.arxiv_id,
        "authors": [
            {"_id": hex_id("author", f"{paper.arxiv_id}:{i}"), "name": name, "hidden": False}
            for i, name in enumerate(paper.authors)
        ],
        "publishedAt": hf_time(paper.published_at),
        "submittedOnDailyAt": _featured_at(paper),
        "title": paper.title,
        "submittedOnDailyBy": hf_user(submitter, base_url) if submitter else None,
        "summary": paper.abstract,
        "upvotes": paper.upvotes,
        "discussionId": hex_id("discussion", paper.arxiv_id),
        "githubRepo": paper.code_url,
        "projectPage": paper.project_url,
        "numComments": paper.num_comments,
    }
    withdrawn_at = _withdrawn_at(paper)
    if withdrawn_at:
        obj["withdrawnAt"] = withdrawn_at
    return obj


def daily_entry(paper: Paper, base_url: str) -> dict[str, Any]:
    """An item of /api/daily_papers and /api/papers/search."""
    obj = paper_object(paper, base_url)
    return {
        "paper": obj,
        # When the entry went on the daily list: HfApi maps this to PaperInfo.submitted_at.
        "publishedAt": obj["submittedOnDailyAt"],
        "title": paper.title,
        "summary": paper.abstract,
        "thumbnail": None,
        "numComments": paper.num_comments,
        # The same user object as the paper's submittedOnDailyBy (serialised twice, made once).
        "submittedBy": obj["submittedOnDailyBy"],
        "organization": None,
        "isAuthorParticipating": False,
        "upvotes": paper.upvotes,
        "githubRepo": paper.code_url,
        "projectPage": paper.project_url,
    }


def arxiv_repos(paper: Paper) -> dict[str, Any]:
    """The body of /api/arxiv/{id}/repos: the Hub's models, datasets and Spaces that cite the
    paper (none here: this hub hosts no repos), plus the paper's code repository and project
    page under the paper object's names, which Hugging Face itself does not send here."""
    return {
        "models": [],
        "datasets": [],
        "spaces": [],
        "githubRepo": paper.code_url,
        "projectPage": paper.project_url,
    }
