"""Similar papers through the catalog (both backends) and the served page and API (#5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from dailypapers import catalog
from dailypapers.errors import InvalidRequest, NotFound
from dailypapers.ingest.importer import import_file
from dailypapers.search.catchup import catch_up
from dailypapers.search.embedder import MINILM_DIM, MINILM_ID
from dailypapers.search.index import SearchIndex
from dailypapers.search.paper_vectors import import_vectors, refresh_vectors
from dailypapers.store import Database
from tests.conftest import REPO
from tests.factories import EXACT_MAX_ROWS
from tests.integration.web_server import sample_hf

SAMPLE = REPO / "sample"


def test_similar_papers_come_from_the_sample_vectors_nearest_first(
    db: Database, tmp_path: Path
) -> None:
    import_file(db, SAMPLE / "hf_daily_papers.sample.jsonl.gz", parse_in_subprocess=False)
    import_vectors(
        db,
        SAMPLE / "vectors.f16.npy",
        SAMPLE / "vectors.ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=MINILM_DIM,
        now=datetime.now(UTC),
    )
    index = SearchIndex(tmp_path / "index")
    catch_up(db, index)
    refresh_vectors(db, index, MINILM_ID, MINILM_DIM, exact_max=EXACT_MAX_ROWS)
    paper = sample_hf()[0]["arxiv_id"]
    found = catalog.similar(db, index, f"{paper}v1", limit=5)
    assert len(found) == 5
    assert paper not in [near.paper.arxiv_id for near in found]
    similarities = [near.similarity for near in found]
    assert similarities == sorted(similarities, reverse=True)
    assert 0.3 < similarities[0] <= 1.0
    with pytest.raises(NotFound):
        catalog.similar(db, index, "2101.99999")
    with pytest.raises(InvalidRequest):
        catalog.similar(db, index, paper, limit=0)


def test_the_page_has_a_similar_panel_and_the_api_answers(http: httpx.Client) -> None:
    paper = sample_hf()[0]["arxiv_id"]
    assert 'id="similar"' in http.get(f"/papers/{paper}").text
    response = http.get(f"/api/papers/{paper}/similar", params={"limit": 3})
    assert response.status_code == 200
    assert isinstance(response.json(), list)
    assert http.get("/api/papers/2101.99999/similar").status_code == 404
    assert http.get(f"/api/papers/{paper}/similar", params={"limit": 0}).status_code == 400
    assert "More like this" in http.get("/").text
