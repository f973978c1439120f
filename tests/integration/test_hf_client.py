"""The real huggingface_hub client, pointed at the served app, reads the imported sample."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from tests.integration.web_server import OLD_STYLE_ID, LiveServer, sample_hf

SAMPLE = sample_hf()
DAYS = sorted(Counter(r["daily_date"] for r in SAMPLE))
BY_ID = {r["arxiv_id"]: r for r in SAMPLE}


@pytest.fixture
def api(live_server: LiveServer) -> HfApi:
    return HfApi(endpoint=live_server.url, token=False)


def _check(info: object) -> None:
    record = BY_ID[info.id]  # type: ignore[attr-defined]
    assert info.title == record["title"]  # type: ignore[attr-defined]
    assert info.upvotes == record["upvotes"]  # type: ignore[attr-defined]
    assert [a.name for a in info.authors] == record["authors"]  # type: ignore[attr-defined]
    featured = datetime.fromisoformat(record["daily_date"]).replace(tzinfo=UTC)
    assert info.submitted_at == featured  # type: ignore[attr-defined]
    assert info.published_at == datetime.fromisoformat(record["published"]).replace(tzinfo=UTC)  # type: ignore[attr-defined]
    assert info.github_repo == record.get("github")  # type: ignore[attr-defined]
    assert info.comments == record["num_comments"]  # type: ignore[attr-defined]


def test_list_daily_papers_by_date(api: HfApi) -> None:
    day = DAYS[-2]
    papers = list(api.list_daily_papers(date=day))
    assert {p.id for p in papers} == {r["arxiv_id"] for r in SAMPLE if r["daily_date"] == day}
    for paper in papers:
        _check(paper)


def test_list_daily_papers_by_week(api: HfApi) -> None:
    papers = []
    for page in range(5):
        got = list(api.list_daily_papers(week="2026-W32", limit=100, p=page))
        papers += got
        if len(got) < 100:
            break
    assert len(papers) > 100  # more than one page
    expected = {r["arxiv_id"] for r in SAMPLE if "2026-08-03" <= r["daily_date"] <= "2026-08-09"}
    assert {p.id for p in papers} == expected
    for paper in papers:
        _check(paper)


def test_paper_info(api: HfApi) -> None:
    record = SAMPLE[42]
    info = api.paper_info(record["arxiv_id"])
    _check(info)
    assert info.summary == record["abstract"]
    assert api.paper_info(OLD_STYLE_ID).title == "Old-Style Identifiers Still Work"
    with pytest.raises(HfHubHTTPError) as caught:
        api.paper_info("2101.99999")
    assert caught.value.response.status_code == 404


def test_list_papers_by_query(api: HfApi) -> None:
    record = BY_ID[SAMPLE[7]["arxiv_id"]]
    found = list(api.list_papers(query=record["title"], limit=5))
    assert found[0].id == record["arxiv_id"]
    assert found[0].title == record["title"]
    assert found[0].upvotes == record["upvotes"]


def test_read_paper_returns_markdown(api: HfApi) -> None:
    record = SAMPLE[9]
    assert api.read_paper(record["arxiv_id"]).startswith(f"# {record['title']}")


def test_the_hf_cli_lists_papers_with_hf_endpoint(live_server: LiveServer) -> None:
    hf = Path(sys.executable).parent / "hf"
    if not hf.exists():
        pytest.skip("the hf CLI is not installed in this environment")
    day = DAYS[-1]
    env = {**os.environ, "HF_ENDPOINT": live_server.url, "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("HF_TOKEN", None)
    result = subprocess.run(
        [str(hf), "papers", "ls", "--date", day, "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for record in (r for r in SAMPLE if r["daily_date"] == day):
        assert record["arxiv_id"] in result.stdout
