"""The derived search index on disk: generations, the writer's file lock, the CURRENT pointer,
and readers that reopen when the generation changes. It decides where; catchup.py decides what.

    DATA_DIR/index/
      CURRENT                  "7": the generation readers use, replaced atomically
      write.lock               held by the one process that writes
      generations/0000007/
        meta.json              written last; a generation without it was never finished
        keyword/               tantivy's files
        vector/                the paper vectors copied out of the store (search/vector_index.py);
                               absent until `dailypapers index` has vectors to serve

A writer never touches a published generation: it builds N+1 beside N (hard links to N's
immutable segment files, then tantivy adds and deletes), checks it opens, writes meta.json,
then swaps CURRENT. Readers check CURRENT at most every `reopen_check_seconds`, so a search
that starts that long after the swap uses the new generation.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from filelock import FileLock, Timeout

from dailypapers.errors import Conflict
from dailypapers.search.hybrid import SemanticConfig
from dailypapers.search.keyword import SCHEMA_VERSION, CorruptIndex, KeywordSearcher
from dailypapers.search.vector_index import VectorFilesDamaged, VectorSearcher

log = logging.getLogger(__name__)

META_FORMAT = 1
# How often a reader looks at CURRENT: the bound on serving an old generation after a swap.
REOPEN_CHECK_SECONDS = 1.0
# The published generation and the one before it stay on disk; readers holding older ones keep
# their open files (POSIX keeps unlinked files alive while open).
KEEP_GENERATIONS = 2
# tantivy's own lock files and its small JSON files are not shared between generations; the
# JSON files are copied, so a writer replacing them in N+1 can never change N.
_NOT_LINKED = (".tantivy-writer.lock", ".tantivy-meta.lock")
_COPIED = ("meta.json", ".managed.json")


class IndexUnavailable(Exception):
    """There is no usable generation: never built, or its files are missing or damaged."""


@dataclass(frozen=True, slots=True)
class GenerationMeta:
    generation: int
    keyword_schema: int
    store_key: str
    # Every change_seq up to high_water has been indexed, except the values in `unseen`:
    # inclusive ranges a late-committing writer may still fill (see catchup.py).
    high_water: int
    unseen: tuple[tuple[int, int], ...]
    docs: int
    created_at: float
    files: dict[str, int]  # path under the generation -> size in bytes: truncation shows
    format: int = META_FORMAT
    # What vector/ was built from (store.vectors.VectorState.key); None: no vector part.
    vector_state: str | None = None
    vector_model: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GenerationMeta:
        data = json.loads(text)
        data["unseen"] = tuple((int(low), int(high)) for low, high in data["unseen"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class OpenGeneration:
    generation: int
    meta: GenerationMeta
    keyword: KeywordSearcher
    vectors: VectorSearcher | None = None


class SearchIndex:
    """One index directory, shared by any number of reading processes and one writer at a time."""

    def __init__(
        self,
        directory: Path,
        *,
        reopen_check_seconds: float = REOPEN_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        semantic: SemanticConfig | None = None,
    ) -> None:
        self.directory = directory
        # The query embedder and hybrid knobs; None: keyword search only.
        self.semantic = semantic
        # Told (mode asked, seconds taken) after every search_papers call: the web's metrics.
        self.on_search: Callable[[str, float], None] | None = None
        self.reopen_check_seconds = reopen_check_seconds
        self._clock = clock
        self._open: OpenGeneration | None = None
        self._checked_at = float("-inf")
        self._mutex = threading.Lock()

    @property
    def current_file(self) -> Path:
        return self.directory / "CURRENT"

    @property
    def generations_dir(self) -> Path:
        return self.directory / "generations"

    def generation_dir(self, generation: int) -> Path:
        return self.generations_dir / f"{generation:07d}"

    def current_generation(self) -> int | None:
        try:
            text = self.current_file.read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None

    def searcher(self, *, force_check: bool = False) -> OpenGeneration:
        """The generation to search. Raises IndexUnavailable when there is none usable."""
        with self._mutex:
            now = self._clock()
            if (
                self._open is not None
                and not force_check
                and now - self._checked_at < self.reopen_check_seconds
            ):
                return self._open
            self._checked_at = now
            generation = self.current_generation()
            if generation is None:
                self._open = None
                raise IndexUnavailable(f"no search index in {self.directory}")
            if self._open is not None and self._open.generation == generation:
                try:
                    self._check_files(self._open.meta)
                except IndexUnavailable:
                    self._open = None
                    raise
                return self._open
            self._open = self.open_generation(generation)
            return self._open

    def open_generation(self, generation: int) -> OpenGeneration:
        meta = self.read_meta(generation)
        try:
            keyword = KeywordSearcher(self.generation_dir(generation) / "keyword")
        except CorruptIndex as exc:
            raise IndexUnavailable(f"generation {generation} is damaged: {exc}") from exc
        if keyword.num_docs != meta.docs:
            raise IndexUnavailable(
                f"generation {generation} holds {keyword.num_docs} documents, not {meta.docs}"
            )
        vectors: VectorSearcher | None = None
        if meta.vector_state is not None:
            try:
                vectors = VectorSearcher(self.generation_dir(generation) / "vector")
            except VectorFilesDamaged as exc:
                raise IndexUnavailable(f"generation {generation} is damaged: {exc}") from exc
        return OpenGeneration(generation, meta, keyword, vectors)

    def read_meta(self, generation: int) -> GenerationMeta:
        path = self.generation_dir(generation) / "meta.json"
        try:
            meta = GenerationMeta.from_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise IndexUnavailable(f"generation {generation} is missing") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexUnavailable(f"generation {generation} has a damaged meta.json") from exc
        if meta.format != META_FORMAT or meta.generation != generation:
            raise IndexUnavailable(f"generation {generation} has a foreign meta.json")
        self._check_files(meta)
        return meta

    def _check_files(self, meta: GenerationMeta) -> None:
        base = self.generation_dir(meta.generation)
        for name, size in meta.files.items():
            try:
                actual = (base / name).stat().st_size
            except FileNotFoundError:
                raise IndexUnavailable(f"generation {meta.generation} lost {name}") from None
            if actual != size:
                raise IndexUnavailable(
                    f"generation {meta.generation}: {name} is {actual} bytes, not {size}"
                )

    @contextmanager
    def write_lock(self, timeout_seconds: float) -> Iterator[None]:
        """Hold the writer's lock; raises Conflict when another writer keeps it past the timeout."""
        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.directory / "write.lock"))
        try:
            lock.acquire(timeout=timeout_seconds)
        except Timeout:
            raise Conflict(
                f"another process has been writing the search index for {timeout_seconds:g} s"
            ) from None
        try:
            yield
        finally:
            lock.release()

    def start_generation(self, base: OpenGeneration | None) -> tuple[int, Path]:
        """Make the next generation's folder, empty or sharing `base`'s files. Hold the lock."""
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name) for p in self.generations_dir.iterdir() if p.name.isdigit()]
        generation = max([*numbers, self.current_generation() or 0]) + 1
        target = self.generation_dir(generation)
        keyword = target / "keyword"
        keyword.mkdir(parents=True)
        if base is not None:
            source = self.generation_dir(base.generation) / "keyword"
            for item in source.iterdir():
                if item.name in _NOT_LINKED or not item.is_file():
                    continue
                if item.name in _COPIED:
                    shutil.copyfile(item, keyword / item.name)
                else:
                    _link_or_copy(item, keyword / item.name)
            vectors = self.generation_dir(base.generation) / "vector"
            if base.meta.vector_state is not None and vectors.is_dir():
                # Vector files are written once and never changed: linking shares them.
                (target / "vector").mkdir()
                for item in vectors.iterdir():
                    _link_or_copy(item, target / "vector" / item.name)
        return generation, target

    def publish(self, meta: GenerationMeta) -> None:
        """Record the finished generation's files, then point CURRENT at it. Hold the lock."""
        base = self.generation_dir(meta.generation)
        parts = ["keyword", "vector"] if meta.vector_state is not None else ["keyword"]
        files = {
            str(path.relative_to(base)): path.stat().st_size
            for part in parts
            for path in sorted((base / part).iterdir())
            if path.is_file() and path.name not in _NOT_LINKED
        }
        meta = replace(meta, files=files)
        _write_atomically(base / "meta.json", meta.to_json())
        _write_atomically(self.current_file, f"{meta.generation}\n")
        self._prune(meta.generation)

    def rewrite_meta(self, meta: GenerationMeta) -> None:
        """Replace the published generation's meta.json (a catch-up that moved only its window)."""
        _write_atomically(self.generation_dir(meta.generation) / "meta.json", meta.to_json())

    def discard(self, generation: int) -> None:
        shutil.rmtree(self.generation_dir(generation), ignore_errors=True)

    def disk_bytes(self) -> int:
        generation = self.current_generation()
        if generation is None:
            return 0
        base = self.generation_dir(generation)
        return sum(p.stat().st_size for p in base.rglob("*") if p.is_file())

    def _prune(self, current: int) -> None:
        for path in self.generations_dir.iterdir():
            if path.name.isdigit() and int(path.name) <= current - KEEP_GENERATIONS:
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.isdigit() and int(path.name) > current:
                shutil.rmtree(path, ignore_errors=True)  # an abandoned, unfinished generation


def keyword_schema_is_current(meta: GenerationMeta) -> bool:
    return meta.keyword_schema == SCHEMA_VERSION


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
