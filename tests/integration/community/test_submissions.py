"""Submitting papers by arXiv id or URL, against a server replaying real arXiv API captures."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dailypapers import __version__
from dailypapers.community.submissions import submit_paper
from dailypapers.domain import PaperRecord
from dailypapers.errors import InvalidRequest, RateLimited, SourceUnavailable
from dailypapers.sources import open_arxiv_sources
from dailypapers.sources.http import user_agent
from dailypapers.store import Database
from dailypapers.store.limits import StoreRateSlots
from dailypapers.store.papers import upsert_papers
from dailypapers.store.schema import featured, papers
from dailypapers.store.users import ensure_user
from tests.factories import community_policy
from tests.integration.community.support import ARXIV_DOWN_ID, Community, csrf_of

# In the bundled arXiv sample but never featured.
KNOWN_UNFEATURED = ("2606.32040", "2606.32038", "2606.32036")


def _submit(community: Community, client, paper: str):  # type: ignore[no-untyped-def]
    return client.post("/submit", data={"csrf": csrf_of(client, "/submit"), "paper": paper})


def _rows(community: Community, arxiv_id: str) -> tuple[int, int]:
    with community.db.read() as conn:
        count = select(func.count())
        return (
            int(conn.execute(count.where(papers.c.arxiv_id == arxiv_id)).scalar_one()),
            int(conn.execute(count.where(featured.c.arxiv_id == arxiv_id)).scalar_one()),
        )


def test_a_known_paper_is_featured_today_with_its_submitter(community: Community) -> None:
    arxiv_id = KNOWN_UNFEATURED[0]
    client = community.sign_in()
    requests_before = len(community.arxiv.seen)
    done = _submit(community, client, f"https://arxiv.org/abs/{arxiv_id}v1")
    assert done.status_code == 303
    assert done.headers["location"] == f"/papers/{arxiv_id}"
    assert len(community.arxiv.seen) == requests_before  # the store had it: no arXiv request
    me = client.get("/account").text
    assert arxiv_id in me
    entry = community.client().get(f"/api/papers/{arxiv_id}").json()
    today = datetime.now(UTC).date().isoformat()
    assert entry["submittedOnDailyAt"].startswith(today)
    username = entry["submittedOnDailyBy"]["user"]
    assert username.startswith("reader-") and f"@{username}" in me
    again = _submit(community, community.sign_in(), arxiv_id)
    assert again.status_code == 409
    assert "not featured twice" in again.text
    assert _rows(community, arxiv_id) == (1, 1)


def test_an_unknown_paper_is_fetched_from_arxiv_and_featured(community: Community) -> None:
    client = community.sign_in()
    assert _rows(community, "1707.08567") == (0, 0)
    done = _submit(community, client, "1707.08567")
    assert done.status_code == 303
    seen = community.arxiv.seen[-1]
    assert seen.path == "/api/query" and seen.query["id_list"] == "1707.08567"
    page = client.get("/papers/1707.08567").text
    assert "Proceedings of Workshop AEW10" in page
    assert _rows(community, "1707.08567") == (1, 1)
    old_style = _submit(community, client, "astro-ph/0601001v1")
    assert old_style.status_code == 303
    assert old_style.headers["location"] == "/papers/astro-ph/0601001"


def test_bad_ids_unknown_ids_and_an_unreachable_arxiv_leave_nothing_behind(
    community: Community,
) -> None:
    client = community.sign_in()
    malformed = _submit(community, client, "2406.1234x")
    assert malformed.status_code == 400
    assert "is not an arXiv id" in malformed.text
    assert 'value="2406.1234x"' in malformed.text  # the form keeps what was typed
    unknown = _submit(community, client, "0000.0000")
    assert unknown.status_code == 404
    assert "arXiv does not know the paper 0000.0000" in unknown.text
    down = _submit(community, client, ARXIV_DOWN_ID)
    assert down.status_code == 503
    assert "try again" in down.text
    for arxiv_id in ("0000.0000", ARXIV_DOWN_ID):
        assert _rows(community, arxiv_id) == (0, 0)
    hostile = _submit(community, client, "<script>alert(1)</script>\r\nx")
    assert hostile.status_code == 400
    assert "<script>alert(1)" not in hostile.text


def test_papers_are_submitted_through_the_token_api(community: Community) -> None:
    client = community.sign_in()
    made = client.post("/account/tokens", data={"csrf": csrf_of(client), "name": "bot"})
    token = re.search(r'<code id="new-token">(dp_[^<]+)</code>', made.text).group(1)  # type: ignore[union-attr]
    api = community.client(Authorization=f"Bearer {token}")
    created = api.post("/api/papers/submit", json={"arxiv_id": KNOWN_UNFEATURED[1]})
    assert created.status_code == 201
    assert created.json()["id"] == KNOWN_UNFEATURED[1]
    assert api.post("/api/papers/submit", json={"arxiv_id": KNOWN_UNFEATURED[1]}).status_code == 409
    assert api.post("/api/papers/submit", json={"arxiv_id": "nope"}).status_code == 400
    assert api.post("/api/papers/submit", content=b"[1, 2]").status_code == 400
    assert community.client().post("/api/papers/submit", json={}).status_code == 401


def _closed_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


def test_arxiv_unreachable_the_window_and_the_daily_limit(db: Database) -> None:
    """The use case against a port nobody listens on, and with a small policy."""
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    with db.write() as conn:
        account = ensure_user(conn, "sub@example.org", "submitter", now)
    nowhere = f"http://127.0.0.1:{_closed_port()}"

    def open_arxiv():  # type: ignore[no-untyped-def]
        return open_arxiv_sources(
            StoreRateSlots(db, "arxiv"),
            oai_url=nowhere,
            api_url=nowhere,
            rss_url=nowhere,
            min_interval_seconds=0.0,
            user_agent=user_agent(__version__, None),
            timeout_seconds=2.0,
            max_retries=0,
        )

    policy = community_policy(submissions_per_day=2, submission_window_days=14)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            submit_paper(db, open_arxiv, policy, account, "2406.12345", now=now)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(papers)).scalar_one() == 0
    with pytest.raises(RateLimited, match="Too many submissions today"):
        submit_paper(db, open_arxiv, policy, account, "2406.12345", now=now)
    with pytest.raises(InvalidRequest, match="is not an arXiv id"):
        submit_paper(db, open_arxiv, policy, account, "not-an-id", now=now)
    old = PaperRecord(
        "1901.00001", "Old", "An old paper.", ("A. Author",), published_at=now - timedelta(days=400)
    )
    new = PaperRecord(
        "2611.00002", "New", "A new paper.", ("B. Author",), published_at=now - timedelta(days=3)
    )
    with db.write() as conn:
        upsert_papers(conn, [old, new], now=now)
        other = ensure_user(conn, "other@example.org", "other", now)
    with pytest.raises(InvalidRequest, match="only papers from the last 14 days"):
        submit_paper(db, open_arxiv, policy, other, "1901.00001", now=now)
    done = submit_paper(db, open_arxiv, policy, other, "arXiv:2611.00002v1", now=now)
    assert done.paper.featured is not None and not done.fetched
    assert done.paper.featured.featured_on == now.date()
    assert done.paper.featured.submitter_name == "other"
