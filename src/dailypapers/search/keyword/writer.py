"""Writing one keyword directory: add, replace or delete papers' documents, then commit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import tantivy

from dailypapers.search.keyword.schema import SCHEMA, CorruptIndex, document, register
from dailypapers.store.changes import PaperText


class KeywordWriter:
    """Adds, replaces and deletes documents in one directory; `commit` makes them durable."""

    def __init__(self, path: Path, *, heap_bytes: int = 128_000_000, threads: int = 1) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self._index = register(tantivy.Index(SCHEMA, path=str(path), reuse=True))
        except ValueError as exc:
            raise CorruptIndex(str(exc)) from exc
        self._writer = self._index.writer(heap_size=heap_bytes, num_threads=threads)

    def add(self, papers: Iterable[PaperText]) -> int:
        """Add documents for papers not in the index (a rebuild): no delete first."""
        count = 0
        for paper in papers:
            self._writer.add_document(document(paper))
            count += 1
        return count

    def replace(self, papers: Iterable[PaperText]) -> tuple[int, int]:
        """Replace each paper's document, or delete it when hidden: (written, deleted)."""
        written = deleted = 0
        for paper in papers:
            self._writer.delete_documents_by_term("id", paper.arxiv_id)
            if paper.hidden:
                deleted += 1
            else:
                self._writer.add_document(document(paper))
                written += 1
        return written, deleted

    def commit(self) -> None:
        self._writer.commit()
        self._writer.wait_merging_threads()
