"""Paper vectors as use cases: embed what is missing or stale into the store, import precomputed
vectors, and refresh the vector part of the derived index from the store.

Documents are embedded here only, called by `dailypapers index` (never by a web worker). Every
batch is committed on its own, so an interrupted run keeps its work and the next one resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dailypapers.errors import InvalidRequest
from dailypapers.search.catchup import LOCK_TIMEOUT_SECONDS
from dailypapers.search.embedder import DOCUMENT_BATCH, Embedder, document_text, text_hash
from dailypapers.search.index import IndexUnavailable, SearchIndex
from dailypapers.search.vector_index import VectorRow, write_vector_files
from dailypapers.store import Database
from dailypapers.store.changes import find_papers
from dailypapers.store.vectors import (
    PaperForVector,
    StoredVector,
    find_vector_state,
    list_papers_for_vectors,
    upsert_paper_vectors,
)

log = logging.getLogger(__name__)

# Documents per store transaction: a killed run loses at most this many embeddings.
WRITE_BATCH = 256
_READ_PAGE = 5_000

Progress = Callable[[int, int], None]  # (embedded so far, to embed in all)


@dataclass(frozen=True, slots=True)
class EmbedReport:
    embedded: int
    current: int  # papers whose stored vector already matched their text
    seconds: float


@dataclass(frozen=True, slots=True)
class VectorImportReport:
    written: int
    unknown: int  # ids with no paper in the store, skipped


@dataclass(frozen=True, slots=True)
class VectorRefreshReport:
    generation: int
    rows: int
    missing: int  # visible papers with no current vector: found by keyword only
    rebuilt: bool


def is_current(paper: PaperForVector) -> bool:
    stored = paper.stored
    return stored is not None and stored.text_hash == text_hash(
        document_text(paper.title, paper.abstract)
    )


def _papers(db: Database, model_id: str) -> Iterator[PaperForVector]:
    after = ""
    while True:
        with db.read() as conn:
            page = list_papers_for_vectors(conn, model_id, after=after, limit=_READ_PAGE)
        yield from page
        if len(page) < _READ_PAGE:
            return
        after = page[-1].arxiv_id


def embed_missing(
    db: Database,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    batch_size: int = DOCUMENT_BATCH,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> EmbedReport:
    """Embed every visible paper whose vector of this model is missing or stale."""
    started = time.perf_counter()
    todo: list[str] = []
    current = 0
    for paper in _papers(db, embedder.model_id):
        if is_current(paper):
            current += 1
        else:
            todo.append(paper.arxiv_id)
    done = 0
    if progress is not None:
        progress(0, len(todo))
    for start in range(0, len(todo), WRITE_BATCH):
        with db.read() as conn:
            found = find_papers(conn, todo[start : start + WRITE_BATCH])
        texts = sorted(
            ((i, document_text(p.title, p.abstract)) for i, p in found.items()),
            key=lambda item: len(item[1]),  # similar lengths together: less padding
        )
        rows: list[StoredVector] = []
        for first in range(0, len(texts), batch_size):
            chunk = texts[first : first + batch_size]
            matrix = embedder.embed([text for _, text in chunk])
            rows.extend(
                StoredVector(i, embedder.dim, _to_bytes(vector), text_hash(text))
                for (i, text), vector in zip(chunk, matrix, strict=True)
            )
        with db.write() as conn:
            upsert_paper_vectors(conn, embedder.model_id, rows, now=now())
        done += len(todo[start : start + WRITE_BATCH])
        if progress is not None:
            progress(done, len(todo))
    return EmbedReport(len(todo), current, time.perf_counter() - started)


def import_vectors(
    db: Database,
    vectors_path: Path,
    ids_path: Path,
    *,
    model_id: str,
    expected_model_id: str,
    expected_dim: int,
    now: datetime,
) -> VectorImportReport:
    """Load precomputed vectors (float16 or float32 .npy, one row per line of the ids file).

    Each vector is taken to belong to the paper's current title and abstract. Raises
    InvalidRequest on a model or dimension mismatch, or rows that do not match the ids.
    """
    if model_id != expected_model_id:
        raise InvalidRequest(
            f"these vectors are from {model_id!r}; this hub uses {expected_model_id!r}"
        )
    try:
        # allow_pickle stays False: an object array is refused, never unpickled.
        matrix = np.load(vectors_path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidRequest(f"{vectors_path.name} is not a readable .npy array: {exc}") from None
    if not isinstance(matrix, np.ndarray):
        raise InvalidRequest(f"{vectors_path.name} is an archive, not one .npy array")
    if matrix.dtype not in (np.float16, np.float32) or matrix.ndim != 2:
        raise InvalidRequest(
            f"expected a 2-d float16 or float32 array, not {matrix.dtype} {matrix.shape}"
        )
    if matrix.shape[1] != expected_dim:
        raise InvalidRequest(
            f"the vectors have {matrix.shape[1]} dimensions; the model has {expected_dim}"
        )
    try:
        ids = ids_path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"cannot read the ids file {ids_path.name}: {exc}") from None
    if len(ids) != matrix.shape[0]:
        raise InvalidRequest(f"{len(ids):,} ids for {matrix.shape[0]:,} vectors")
    # Checked before anything is written: one NaN row would poison every distance to it.
    for start in range(0, matrix.shape[0], 50_000):
        if not np.isfinite(matrix[start : start + 50_000]).all():
            raise InvalidRequest(f"{vectors_path.name} holds NaN or infinite values")
    written = unknown = 0
    for start in range(0, len(ids), 5_000):
        chunk = ids[start : start + 5_000]
        with db.read() as conn:
            papers = find_papers(conn, chunk)
        rows = [
            StoredVector(
                arxiv_id,
                expected_dim,
                _to_bytes(np.asarray(matrix[start + offset], dtype=np.float32)),
                text_hash(document_text(papers[arxiv_id].title, papers[arxiv_id].abstract)),
            )
            for offset, arxiv_id in enumerate(chunk)
            if arxiv_id in papers
        ]
        unknown += len(chunk) - len(rows)
        with db.write() as conn:
            written += upsert_paper_vectors(conn, model_id, rows, now=now)
    return VectorImportReport(written, unknown)


def refresh_vectors(
    db: Database,
    index: SearchIndex,
    model_id: str,
    dim: int,
    *,
    exact_max: int,
    force: bool = False,
    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS,
) -> VectorRefreshReport:
    """Rewrite the vector part of the index when the store's vectors or papers changed.

    Needs a keyword generation (run the keyword catch-up first). The new generation shares the
    keyword files of the current one and is published like any other.
    """
    with index.write_lock(lock_timeout_seconds):
        generation = index.current_generation()
        if generation is None:
            raise IndexUnavailable("no search index yet: catch up the keyword index first")
        current = index.open_generation(generation)
        with db.read() as conn:
            key = find_vector_state(conn, model_id).key(model_id)
        if not force and current.meta.vector_state == key and current.vectors is not None:
            return VectorRefreshReport(generation, current.vectors.rows, -1, False)
        new_generation, folder = index.start_generation(current)
        try:
            for old in (folder / "vector").glob("*"):
                old.unlink()
            missing = [0]
            rows = write_vector_files(
                folder / "vector",
                _current_rows(db, model_id, missing),
                dim=dim,
                exact_max=exact_max,
            )
            meta = replace(
                current.meta,
                generation=new_generation,
                created_at=time.time(),
                files={},
                vector_state=key,
                vector_model=model_id,
            )
            index.publish(meta)
        except BaseException:
            index.discard(new_generation)
            raise
    log.info(
        "vector index: %d papers in generation %d, %d without a vector",
        rows,
        new_generation,
        missing[0],
    )
    return VectorRefreshReport(new_generation, rows, missing[0], True)


def _current_rows(db: Database, model_id: str, missing: list[int]) -> Iterator[VectorRow]:
    for paper in _papers(db, model_id):
        if paper.stored is None or not is_current(paper):
            missing[0] += 1
            continue
        yield VectorRow(
            paper.arxiv_id, vector_from_bytes(paper.stored), paper.published_at, paper.categories
        )


def _to_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    """Stored as little-endian float16: half the bytes, within 1e-3 of float32 (cos 0.99999)."""
    return np.asarray(vector, dtype="<f2").tobytes()


def vector_from_bytes(stored: StoredVector) -> npt.NDArray[np.float32]:
    width = len(stored.vector) // max(stored.dim, 1)
    dtype = "<f2" if width == 2 else "<f4"
    return np.frombuffer(stored.vector, dtype=dtype).astype(np.float32)


# A paper vector as numpy holds it; callers outside search/ treat it as opaque.
Vector = npt.NDArray[np.float32]


def unit_vector(stored: StoredVector) -> Vector | None:
    """The stored vector decoded and scaled to length 1 (None: a zero vector)."""
    vector = vector_from_bytes(stored)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def stack_vectors(vectors: Sequence[Vector]) -> Vector:
    """Unit vectors as the rows of one matrix, for `closest_rows`."""
    return np.stack(vectors) if vectors else np.zeros((0, 1), dtype=np.float32)


def closest_rows(queries: Sequence[Vector], matrix: Vector) -> list[tuple[int, float]]:
    """For each row of `matrix`: (index of the query it is nearest, that cosine). Unit vectors
    in; the first query wins a tie."""
    if not queries or matrix.shape[0] == 0:
        return []
    scores = np.stack(queries) @ matrix.T  # queries x rows
    best = np.argmax(scores, axis=0)
    top = scores[best, np.arange(matrix.shape[0])]
    return [(int(b), float(s)) for b, s in zip(best, top, strict=True)]
