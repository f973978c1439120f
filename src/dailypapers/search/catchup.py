"""Keeping the derived index caught up with the store through papers.change_seq, and rebuilding it.

PostgreSQL hands out change_seq values at write time but transactions commit in any order, so
"greater than the last seen" alone would miss a row that commits late. Each generation remembers
the values below its high-water mark it has not seen yet (`unseen`: a late writer's, a no-op
batch's, one overwritten since) and re-reads them, within an overlap window of OVERLAP_SEQ values
behind the mark. Every row read is compared with the change_seq the index holds for it, so a row
re-read unchanged is skipped: only changed documents are written.
"""

from __future__ import annotations

import hashlib
import logging
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from dailypapers.errors import DailyPapersError
from dailypapers.search.index import (
    GenerationMeta,
    IndexUnavailable,
    OpenGeneration,
    SearchIndex,
    keyword_schema_is_current,
)
from dailypapers.search.keyword import SCHEMA_VERSION, KeywordSearcher, KeywordWriter
from dailypapers.store import Database
from dailypapers.store.changes import (
    PaperText,
    SeqRange,
    commits_in_change_seq_order,
    find_restore_epoch,
    list_paper_texts,
    max_change_seq,
)

log = logging.getLogger(__name__)
# How tantivy words an I/O failure (e.g. ENOSPC) when it surfaces as a ValueError.
_TANTIVY_IO_ERROR = "An IO error occurred"


class IndexWriteFailed(DailyPapersError):
    """A new generation could not be written (disk full or failing); the current one stays."""


# How many change_seq values behind the high-water mark a late commit is still looked for. Each
# write transaction takes one value, so this is "10,000 later write transactions"; a writer that
# commits later than that is found by the next `index --rebuild`.
OVERLAP_SEQ = 10_000
# More unseen ranges than this are merged into one span: re-reading a span costs rows, each
# skipped when unchanged; a long OR of ranges would cost more.
MAX_UNSEEN_RANGES = 64
READ_BATCH = 5_000
LOCK_TIMEOUT_SECONDS = 600.0
# One indexing thread with the whole heap: segments twice the size of two threads' halves, so a
# rebuild ends with fewer of them (2 rather than 6 at 1M papers). Each segment is searched on its
# own: a filter by a few thousand ids looks each one up in every segment.
REBUILD_HEAP_BYTES = 256_000_000
REBUILD_THREADS = 1
CATCH_UP_HEAP_BYTES = 64_000_000


@dataclass(frozen=True, slots=True)
class CatchUpReport:
    generation: int
    rebuilt: bool
    read: int  # rows read from the store
    written: int  # documents added or replaced
    deleted: int  # documents removed (hidden papers)
    skipped: int  # rows read whose indexed change_seq was already current
    high_water: int
    docs: int
    seconds: float

    @property
    def index_writes(self) -> int:
        return self.written + self.deleted


@contextmanager
def _disk_errors(index: SearchIndex) -> Iterator[None]:
    """A full or failing disk while writing a generation: a clear error. The unfinished
    generation was already discarded, and the current one is still the one served."""
    try:
        yield
    except OSError as exc:
        raise IndexWriteFailed(
            f"could not write the search index in {index.directory}: {exc}"
        ) from exc
    except ValueError as exc:
        if not str(exc).startswith(_TANTIVY_IO_ERROR):
            raise
        raise IndexWriteFailed(
            f"could not write the search index in {index.directory}: {exc}"
        ) from exc


def catch_up(
    db: Database,
    index: SearchIndex,
    *,
    overlap_seq: int = OVERLAP_SEQ,
    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS,
) -> CatchUpReport:
    """Index what changed in the store since the last generation; rebuild when none is usable.

    Publishes a new generation only when a document changed. Raises Conflict when another
    process holds the writer's lock past the timeout.
    """
    started = time.perf_counter()
    with _disk_errors(index), index.write_lock(lock_timeout_seconds):
        current = _usable_generation(db, index)
        if current is None:
            return _rebuild(db, index, overlap_seq, started)
        return _catch_up(db, index, current, overlap_seq, started)


def rebuild(
    db: Database,
    index: SearchIndex,
    *,
    overlap_seq: int = OVERLAP_SEQ,
    lock_timeout_seconds: float = LOCK_TIMEOUT_SECONDS,
) -> CatchUpReport:
    """Build a new generation from scratch out of the store and publish it."""
    started = time.perf_counter()
    with _disk_errors(index), index.write_lock(lock_timeout_seconds):
        return _rebuild(db, index, overlap_seq, started)


def repair(db: Database, index: SearchIndex) -> CatchUpReport | None:
    """Rebuild unless a usable generation exists (another process may have just rebuilt it)."""
    started = time.perf_counter()
    with _disk_errors(index), index.write_lock(LOCK_TIMEOUT_SECONDS):
        if _usable_generation(db, index) is not None:
            return None
        return _rebuild(db, index, OVERLAP_SEQ, started)


def store_key(db: Database) -> str:
    """Which store an index was built from: a different database, or the same one restored
    from a backup since (its restore epoch changed), means a rebuild.

    A restore moves change_seq backwards, and writes after it reuse values the index has
    seen, so neither catch-up nor "the store is behind the index" could be trusted after one.
    """
    with db.read() as conn:
        epoch = find_restore_epoch(conn)
    identity = db.url if epoch is None else f"{db.url}#{epoch}"
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]


def advance_window(
    high_water: int,
    unseen: Sequence[tuple[int, int]],
    seen: Iterable[int],
    overlap_seq: int,
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The new (high_water, unseen) after reading `unseen` and everything above `high_water`."""
    seen_values = sorted(set(seen))
    new_high = max(high_water, seen_values[-1] if seen_values else high_water)
    if overlap_seq <= 0:
        return new_high, ()
    candidates = [*unseen, (high_water + 1, new_high)] if new_high > high_water else [*unseen]
    floor = new_high - overlap_seq + 1
    remaining: list[tuple[int, int]] = []
    for low, high in sorted(candidates):
        low = max(low, floor)
        remaining.extend(_minus(low, high, seen_values))
    if len(remaining) > MAX_UNSEEN_RANGES:
        remaining = [(remaining[0][0], remaining[-1][1])]
    return new_high, tuple(remaining)


def ranges_to_read(meta: GenerationMeta) -> list[SeqRange]:
    return [*meta.unseen, (meta.high_water + 1, None)]


def _minus(low: int, high: int, sorted_points: list[int]) -> Iterator[tuple[int, int]]:
    """The inclusive range [low, high] without the points in it, as ranges."""
    start = low
    for point in sorted_points[bisect_left(sorted_points, low) : bisect_right(sorted_points, high)]:
        if point > start:
            yield start, point - 1
        start = point + 1
    if start <= high:
        yield start, high


def _usable_generation(db: Database, index: SearchIndex) -> OpenGeneration | None:
    generation = index.current_generation()
    if generation is None:
        log.info("no search index yet in %s: building it", index.directory)
        return None
    try:
        current = index.open_generation(generation)
    except IndexUnavailable as problem:
        log.warning("search index unusable (%s): rebuilding it from the store", problem)
        return None
    if not keyword_schema_is_current(current.meta):
        log.info("search index schema changed: rebuilding it")
        return None
    if current.meta.store_key != store_key(db):
        log.warning("search index was built from another store: rebuilding it")
        return None
    with db.read() as conn:
        if max_change_seq(conn) < current.meta.high_water:
            log.warning("the store is behind the search index (replaced?): rebuilding it")
            return None
    return current


def _catch_up(
    db: Database,
    index: SearchIndex,
    current: OpenGeneration,
    overlap_seq: int,
    started: float,
) -> CatchUpReport:
    meta = current.meta
    overlap = 0 if commits_in_change_seq_order(db) else overlap_seq
    writer: KeywordWriter | None = None
    generation = current.generation
    seen: set[int] = set()
    read = written = deleted = skipped = 0
    try:
        for batch in _read(db, ranges_to_read(meta)):
            read += len(batch)
            seen.update(p.change_seq for p in batch)
            indexed = current.keyword.indexed_seqs([p.arxiv_id for p in batch])
            changed = [p for p in batch if _needs_write(p, indexed)]
            skipped += len(batch) - len(changed)
            if not changed:
                continue
            if writer is None:
                generation, folder = index.start_generation(current)
                writer = KeywordWriter(folder / "keyword", heap_bytes=CATCH_UP_HEAP_BYTES)
            added, removed = writer.replace(changed)
            written, deleted = written + added, deleted + removed
        high_water, unseen = advance_window(meta.high_water, meta.unseen, seen, overlap)
        new_meta = GenerationMeta(
            generation=generation,
            keyword_schema=SCHEMA_VERSION,
            store_key=meta.store_key,
            high_water=high_water,
            unseen=unseen,
            docs=meta.docs,
            created_at=time.time(),
            files={},
            vector_state=meta.vector_state,
            vector_model=meta.vector_model,
        )
        if writer is None:
            if (high_water, unseen) != (meta.high_water, meta.unseen):
                index.rewrite_meta(replace(meta, high_water=high_water, unseen=unseen))
            return _report(
                current.generation, False, read, 0, 0, skipped, high_water, meta.docs, started
            )
        writer.commit()
        docs = _finish(index, new_meta)
    except BaseException:
        if writer is not None:
            index.discard(generation)
        raise
    log.info(
        "search index caught up: %d read, %d written, %d deleted, %d skipped",
        *(read, written, deleted, skipped),
    )
    return _report(generation, False, read, written, deleted, skipped, high_water, docs, started)


def _rebuild(db: Database, index: SearchIndex, overlap_seq: int, started: float) -> CatchUpReport:
    overlap = 0 if commits_in_change_seq_order(db) else overlap_seq
    generation, folder = index.start_generation(None)
    seen: set[int] = set()
    read = written = 0
    try:
        writer = KeywordWriter(
            folder / "keyword", heap_bytes=REBUILD_HEAP_BYTES, threads=REBUILD_THREADS
        )
        for batch in _read(db, [(0, None)]):
            read += len(batch)
            seen.update(p.change_seq for p in batch)
            written += writer.add(p for p in batch if not p.hidden)
        writer.commit()
        high_water, unseen = advance_window(0, (), seen, overlap)
        meta = GenerationMeta(
            generation=generation,
            keyword_schema=SCHEMA_VERSION,
            store_key=store_key(db),
            high_water=high_water,
            unseen=unseen,
            docs=written,
            created_at=time.time(),
            files={},
        )
        docs = _finish(index, meta)
    except BaseException:
        index.discard(generation)
        raise
    log.info("search index rebuilt: %d documents in generation %d", docs, generation)
    return _report(generation, True, read, written, 0, 0, high_water, docs, started)


def _finish(index: SearchIndex, meta: GenerationMeta) -> int:
    """Check the new generation opens, record its document count, publish it."""
    docs = KeywordSearcher(index.generation_dir(meta.generation) / "keyword").num_docs
    index.publish(replace(meta, docs=docs))
    return docs


def _needs_write(paper: PaperText, indexed: dict[str, int]) -> bool:
    if paper.hidden:
        return paper.arxiv_id in indexed
    return indexed.get(paper.arxiv_id) != paper.change_seq


def _read(db: Database, ranges: Sequence[SeqRange]) -> Iterator[list[PaperText]]:
    """Pages of rows in `ranges`, each read in its own short transaction."""
    after: tuple[int, str] | None = None
    while True:
        with db.read() as conn:
            batch = list_paper_texts(conn, ranges, after=after, limit=READ_BATCH)
        if not batch:
            return
        yield batch
        after = (batch[-1].change_seq, batch[-1].arxiv_id)
        if len(batch) < READ_BATCH:
            return


def _report(
    generation: int,
    rebuilt: bool,
    read: int,
    written: int,
    deleted: int,
    skipped: int,
    high_water: int,
    docs: int,
    started: float,
) -> CatchUpReport:
    return CatchUpReport(
        generation=generation,
        rebuilt=rebuilt,
        read=read,
        written=written,
        deleted=deleted,
        skipped=skipped,
        high_water=high_water,
        docs=docs,
        seconds=time.perf_counter() - started,
    )
