"""Shared steps of the search tests: import the real sample papers, change a paper, hide one."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from dailypapers.domain import PaperRecord
from dailypapers.ingest.importer import import_file
from dailypapers.store import Database
from dailypapers.store.listings import get_paper
from dailypapers.store.papers import next_change_seq, upsert_papers
from dailypapers.store.schema import papers
from tests.conftest import REPO

SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
SAMPLE_ARXIV = REPO / "sample" / "arxiv.sample.jsonl.gz"
NOW = datetime(2026, 9, 1, tzinfo=UTC)


def import_samples(db: Database) -> None:
    for path in (SAMPLE_HF, SAMPLE_ARXIV):
        import_file(db, path, parse_in_subprocess=False)


def head_of(source: Path, target: Path, lines: int) -> Path:
    """The first `lines` records of a gzip JSONL file, as a file of its own."""
    with gzip.open(source, "rt", encoding="utf-8") as src, target.open("w") as out:
        out.writelines(itertools.islice(src, lines))
    return target


def record_of(db: Database, arxiv_id: str, **changes: object) -> PaperRecord:
    """The stored paper as the record of its next version, with `changes` applied."""
    with db.read() as conn:
        paper = get_paper(conn, arxiv_id)
    fields: dict[str, object] = {
        "arxiv_id": paper.arxiv_id,
        "title": paper.title,
        "abstract": paper.abstract,
        "authors": paper.authors,
        "version": (paper.latest_version or 1) + 1,
        "published_at": paper.published_at,
        "categories": paper.categories,
    }
    fields.update(changes)
    return PaperRecord(**fields)  # type: ignore[arg-type]


def rewrite(db: Database, record: PaperRecord) -> None:
    with db.write() as conn:
        upsert_papers(conn, [record], now=NOW)


def hide(db: Database, arxiv_id: str) -> None:
    """What moderation does: hide the paper and bump its change_seq."""
    with db.write() as conn:
        seq = next_change_seq(conn)
        conn.execute(
            update(papers).where(papers.c.arxiv_id == arxiv_id).values(hidden=True, change_seq=seq)
        )
