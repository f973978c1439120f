"""Paper vectors in the store (`paper_vectors`): the truth the vector index is derived from,
keyed by (paper, model) with the hash of the text they were computed from. Raw bytes in and out:
the store does not know numpy or any model; float16 or float32, told apart by length / dim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, func, select

from dailypapers.store.schema import paper_vectors, papers
from dailypapers.store.upserts import insert_for

# Rows per INSERT: well under SQLite's bound-parameter limit (5 columns each).
_WRITE_CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class StoredVector:
    arxiv_id: str
    dim: int
    vector: bytes
    text_hash: str


@dataclass(frozen=True, slots=True)
class PaperForVector:
    """A visible paper as the vector index needs it: its text (to check the stored vector is
    current), what filters read, and its stored vector if any."""

    arxiv_id: str
    title: str
    abstract: str
    categories: tuple[str, ...]
    published_at: datetime | None
    stored: StoredVector | None


@dataclass(frozen=True, slots=True)
class VectorState:
    """What the derived vector index must match: a change here means rebuild it."""

    count: int
    last_created_at: datetime | None
    papers_change_seq: int

    def key(self, model_id: str) -> str:
        stamp = self.last_created_at.isoformat() if self.last_created_at else "-"
        return f"{model_id}|{self.count}|{stamp}|{self.papers_change_seq}"


def upsert_paper_vectors(
    conn: Connection, model_id: str, rows: Sequence[StoredVector], *, now: datetime
) -> int:
    """Insert or replace these vectors of `model_id`; returns how many rows were written.

    Ids with no paper in the store are the caller's to leave out (the foreign key refuses them).
    """
    for start in range(0, len(rows), _WRITE_CHUNK):
        chunk = rows[start : start + _WRITE_CHUNK]
        stmt = insert_for(conn, paper_vectors).values(
            [
                {
                    "arxiv_id": row.arxiv_id,
                    "model_id": model_id,
                    "dim": row.dim,
                    "vector": row.vector,
                    "text_hash": row.text_hash,
                    "created_at": now,
                }
                for row in chunk
            ]
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[paper_vectors.c.arxiv_id, paper_vectors.c.model_id],
            set_={
                "dim": stmt.excluded.dim,
                "vector": stmt.excluded.vector,
                "text_hash": stmt.excluded.text_hash,
                "created_at": stmt.excluded.created_at,
            },
        )
        conn.execute(stmt)
    return len(rows)


def list_papers_for_vectors(
    conn: Connection, model_id: str, *, after: str = "", limit: int = 5_000
) -> list[PaperForVector]:
    """Visible papers in arxiv_id order after `after`, each with its stored `model_id` vector."""
    joined = papers.outerjoin(
        paper_vectors,
        and_(
            paper_vectors.c.arxiv_id == papers.c.arxiv_id,
            paper_vectors.c.model_id == model_id,
        ),
    )
    stmt = (
        select(
            papers.c.arxiv_id,
            papers.c.title,
            papers.c.abstract,
            papers.c.categories,
            papers.c.published_at,
            paper_vectors.c.dim,
            paper_vectors.c.vector,
            paper_vectors.c.text_hash,
        )
        .select_from(joined)
        .where(papers.c.hidden.is_(False), papers.c.arxiv_id > after)
        .order_by(papers.c.arxiv_id)
        .limit(limit)
    )
    return [
        PaperForVector(
            arxiv_id=arxiv_id,
            title=title,
            abstract=abstract,
            categories=tuple(categories.split()),
            published_at=published_at,
            stored=None
            if vector is None
            else StoredVector(arxiv_id, int(dim), bytes(vector), str(text_hash)),
        )
        for (arxiv_id, title, abstract, categories, published_at, dim, vector, text_hash) in (
            conn.execute(stmt)
        )
    ]


def find_paper_vector(conn: Connection, model_id: str, arxiv_id: str) -> StoredVector | None:
    row = conn.execute(
        select(paper_vectors.c.dim, paper_vectors.c.vector, paper_vectors.c.text_hash).where(
            paper_vectors.c.arxiv_id == arxiv_id, paper_vectors.c.model_id == model_id
        )
    ).first()
    if row is None:
        return None
    return StoredVector(arxiv_id, int(row[0]), bytes(row[1]), str(row[2]))


def find_vector_state(conn: Connection, model_id: str) -> VectorState:
    count, last = conn.execute(
        select(func.count(), func.max(paper_vectors.c.created_at)).where(
            paper_vectors.c.model_id == model_id
        )
    ).one()
    seq = conn.execute(select(func.coalesce(func.max(papers.c.change_seq), 0))).scalar_one()
    return VectorState(int(count), last, int(seq))
