"""Builders for tests: policies and plans made from `Settings` the way the composition root makes
them, so a test changes only what it names and every other value is the product's default."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dailypapers import services
from dailypapers.community import CommunityPolicy
from dailypapers.config import Settings
from dailypapers.digest import DigestPolicy
from dailypapers.domain import PaperRecord
from dailypapers.ingest.featuring import FeatureRules
from dailypapers.schedule import SchedulePlan
from dailypapers.search.embedder import Embedder
from dailypapers.search.hybrid import SemanticConfig

# The settings' defaults, read once (a test environment sets no DAILYPAPERS_* variables).
DEFAULTS = Settings()
EXACT_MAX_ROWS = DEFAULTS.search_exact_max_rows


def community_policy(**changes: Any) -> CommunityPolicy:
    return replace(services.community_policy(DEFAULTS), **changes)


def digest_policy(**changes: Any) -> DigestPolicy:
    return replace(services.digest_policy(DEFAULTS), **changes)


def feature_rules(**changes: Any) -> FeatureRules:
    return replace(services.feature_rules(DEFAULTS), **changes)


def schedule_plan(**changes: Any) -> SchedulePlan:
    return replace(services.schedule_plan(DEFAULTS), **changes)


def semantic_config(embedder: Embedder, **changes: Any) -> SemanticConfig:
    return replace(services.semantic_config(DEFAULTS), embedder=embedder, **changes)


def make_paper(arxiv_id: str, **fields: Any) -> PaperRecord:
    """A first version of a paper: a title, an abstract and an author made from its id, in
    cs.LG, published 2026-09-01, unless `fields` say otherwise."""
    values: dict[str, Any] = {
        "title": f"Paper {arxiv_id}",
        "abstract": f"An abstract of paper {arxiv_id}.",
        "authors": ("A. Author",),
        "version": 1,
        "published_at": datetime(2026, 9, 1, tzinfo=UTC),
        "categories": ("cs.LG",),
        **fields,
    }
    return PaperRecord(arxiv_id=arxiv_id, **values)
