"""Submitting a paper by arXiv id or URL: feature it on today's list, fetching its metadata from
the arXiv API when the store lacks it. Nothing is written until the fetch has succeeded, and the
paper and its listing are written in one transaction, so a failure leaves nothing half-made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dailypapers.community import rate_limits
from dailypapers.community.accounts import require_active
from dailypapers.community.policy import CommunityPolicy
from dailypapers.domain import Account, Paper, PaperRecord, split_arxiv_id
from dailypapers.errors import Conflict, InvalidRequest, NotFound, SourceUnavailable
from dailypapers.sources import ArxivSources
from dailypapers.store import Connection, Database
from dailypapers.store.listings import get_paper
from dailypapers.store.paper_edits import feature_submission, featured_day_of, is_paper_hidden
from dailypapers.store.papers import upsert_papers

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Submission:
    paper: Paper
    fetched: bool  # True when the metadata came from arXiv just now


def parse_submission(raw: str) -> str:
    """The arXiv id (without version) in an id or an arxiv.org URL; InvalidRequest otherwise."""
    text = raw.strip()
    if not text or len(text) > MAX_INPUT_CHARS or "\n" in text or "\r" in text:
        raise InvalidRequest("enter an arXiv id like 2406.12345 or an arxiv.org link")
    try:
        arxiv_id, _ = split_arxiv_id(text)
    except ValueError:
        raise InvalidRequest(
            f"{text[:80]!r} is not an arXiv id: use the new style (2406.12345, "
            "optionally with v2) or the old style (hep-th/9901001), or an arxiv.org link"
        ) from None
    return arxiv_id


def submit_paper(
    db: Database,
    open_arxiv: Callable[[], ArxivSources],
    policy: CommunityPolicy,
    account: Account | None,
    raw: str,
    *,
    now: datetime,
) -> Submission:
    """Feature the paper today, submitted by `account`.

    Raises InvalidRequest (bad id, too old), NotFound (arXiv does not know it), Conflict (already
    featured or hidden), SourceUnavailable (arXiv unreachable), RateLimited.
    """
    submitter = require_active(account)
    arxiv_id = parse_submission(raw)
    with db.write() as conn:
        rate_limits.take(
            conn,
            f"submission:{submitter.id}",
            limit=policy.submissions_per_day,
            window=rate_limits.DAY,
            now=now,
            what="submissions today",
        )
        known = _known(conn, arxiv_id)
    record: PaperRecord | None = None
    if known is None:
        try:
            with open_arxiv() as arxiv:
                record = arxiv.api.fetch_paper(arxiv_id)
        except SourceUnavailable as exc:
            log.warning("submission of %s: arXiv unavailable: %s", arxiv_id, exc)
            raise SourceUnavailable(
                f"arXiv could not be reached to fetch {arxiv_id}, so nothing was saved. "
                "Please try again in a few minutes"
            ) from exc
        if record is None:
            raise NotFound(f"arXiv does not know the paper {arxiv_id}; check the id")
        published = record.published_at
    else:
        published = known.published_at
    _check_window(arxiv_id, published, policy.submission_window_days, now)
    with db.write() as conn:
        if record is not None:
            upsert_papers(conn, [record], now=now)
        if not feature_submission(
            conn, arxiv_id, now.date(), submitter.id, submitter.username, now
        ):
            day = featured_day_of(conn, arxiv_id)
            raise Conflict(f"{arxiv_id} is already featured (on {day}); it is not featured twice")
        paper = get_paper(conn, arxiv_id)
    return Submission(paper, fetched=record is not None)


def _known(conn: Connection, arxiv_id: str) -> Paper | None:
    """The stored paper, None if the store lacks it; Conflict if it cannot be featured."""
    try:
        paper = get_paper(conn, arxiv_id)
    except NotFound:
        return None
    if is_paper_hidden(conn, arxiv_id):
        raise Conflict(f"{arxiv_id} was removed from this hub by its moderators")
    if paper.featured is not None:
        raise Conflict(
            f"{arxiv_id} is already featured (on {paper.featured.featured_on}); "
            "it is not featured twice"
        )
    return paper


def _check_window(arxiv_id: str, published: datetime | None, days: int, now: datetime) -> None:
    if days <= 0 or published is None:
        return
    if published < now - timedelta(days=days):
        raise InvalidRequest(
            f"{arxiv_id} was first published on {published.date()}: only papers from the last "
            f"{days} days can be submitted"
        )
