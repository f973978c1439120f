"""Bulk import of JSON-lines dumps (plain or gzip): streamed, batched, idempotent and resumable.

Each batch is one transaction, so an interrupted import leaves whole batches only, and a rerun
(every write is an upsert that skips unchanged rows) finishes the job. Bad records go to a reject
file with their line number; the rest goes in.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

from dailypapers.domain import ImportCounts, PaperRecord
from dailypapers.errors import InvalidRequest
from dailypapers.ingest.formats import FORMATS, Format, RecordError, detect_format, parse_record
from dailypapers.ingest.pipeline import run_in_subprocess
from dailypapers.store import Database
from dailypapers.store.ingest_runs import finish_run, start_run
from dailypapers.store.papers import upsert_papers

log = logging.getLogger(__name__)

# A line longer than this is rejected unread: no real record comes near it, and reading it whole
# would let one corrupt line exhaust memory.
MAX_LINE_BYTES = 16 * 1024 * 1024
# How much of a rejected line the reject file keeps.
REJECT_SNIPPET_CHARS = 4_000
_DETECT_LINES = 100

ProgressCallback = Callable[[int, ImportCounts], None]


@dataclass(frozen=True, slots=True)
class ImportReport:
    path: Path
    format: Format
    counts: ImportCounts
    featured_days: int
    reject_path: Path | None
    seconds: float


@dataclass(frozen=True, slots=True)
class Reject:
    line: int
    arxiv_id: str | None
    error: str
    text: str


@dataclass(frozen=True, slots=True)
class ParsedBatch:
    records: list[PaperRecord]
    rejects: list[Reject]
    bytes_read: int
    last_line: int


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    text: str | None  # None: over MAX_LINE_BYTES or not UTF-8
    problem: str | None = None


def import_file(
    db: Database,
    path: Path,
    *,
    fmt: Format | None = None,
    batch_size: int = 5_000,
    max_field_chars: int = 100_000,
    reject_path: Path | None = None,
    progress: ProgressCallback | None = None,
    parse_in_subprocess: bool = True,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Import `path` into `db`. `progress` gets (bytes of the file read so far, counts so far).

    With `parse_in_subprocess`, a second process reads and parses while this one writes: on two
    cores that overlaps the two halves of the work (see bench/import.py for the measured gain).
    """
    if not path.is_file():
        raise InvalidRequest(f"no such file: {path}")
    if fmt is not None and fmt not in FORMATS:
        raise InvalidRequest(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    fmt = fmt or _detect(path)
    rejects = _RejectWriter(reject_path)  # before the run is recorded: a bad path stores nothing
    started = clock()
    run_id = start_run(db, f"file:{path.name}", now=started)
    counts = ImportCounts()
    days: set[date] = set()
    status, error = "failed", None
    job = _ParseJob(path, fmt, batch_size, max_field_chars)
    try:
        batches = run_in_subprocess(job) if parse_in_subprocess else job.batches()
        for batch in batches:
            for reject in batch.rejects:
                rejects.add(reject)
            days.update(r.featured.featured_on for r in batch.records if r.featured)
            if batch.records:
                counts = _write_batch(db, batch.records, counts, clock)
            counts = _with(counts, batch.last_line, rejects.count)
            if progress:
                progress(batch.bytes_read, counts)
        status = "ok"
    except KeyboardInterrupt:
        status, error = "interrupted", "interrupted by the user"
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        rejects.close()
        finish_run(db, run_id, counts, status=status, now=clock(), error=error)
    return ImportReport(
        path=path,
        format=fmt,
        counts=counts,
        featured_days=len(days),
        reject_path=rejects.path if rejects.count else None,
        seconds=(clock() - started).total_seconds(),
    )


def _with(counts: ImportCounts, lines: int, rejects: int) -> ImportCounts:
    return ImportCounts(
        lines=lines,
        papers_seen=counts.papers_seen,
        papers_changed=counts.papers_changed,
        featured_changed=counts.featured_changed,
        rejects=rejects,
    )


def _write_batch(
    db: Database, batch: list[PaperRecord], counts: ImportCounts, clock: Callable[[], datetime]
) -> ImportCounts:
    with db.write() as conn:
        outcome = upsert_papers(conn, batch, now=clock())
    return counts + ImportCounts(
        papers_seen=len(batch),
        papers_changed=outcome.papers_changed,
        featured_changed=outcome.featured_changed,
    )


def _parse_line(line: _Line, fmt: Format, max_field_chars: int) -> PaperRecord | Reject | None:
    if line.text is None:
        return Reject(line.number, None, line.problem or "unreadable line", "")
    if not line.text.strip():
        return None
    try:
        data = json.loads(line.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        return Reject(line.number, None, f"broken JSON: {message}", line.text)
    try:
        return parse_record(data, fmt, max_field_chars=max_field_chars)
    except RecordError as exc:
        raw_id = (data.get("arxiv_id") or data.get("id")) if isinstance(data, dict) else None
        return Reject(line.number, raw_id if isinstance(raw_id, str) else None, str(exc), line.text)


@dataclass(frozen=True, slots=True)
class _ParseJob:
    """Read and parse a file into batches; picklable, so it can run in a second process."""

    path: Path
    fmt: Format
    batch_size: int
    max_field_chars: int

    def batches(self) -> Iterator[ParsedBatch]:
        with self.path.open("rb") as raw:
            records: list[PaperRecord] = []
            rejected: list[Reject] = []
            number = 0
            for line in _read_lines(raw):
                number = line.number
                parsed = _parse_line(line, self.fmt, self.max_field_chars)
                if isinstance(parsed, Reject):
                    rejected.append(parsed)
                elif parsed is not None:
                    records.append(parsed)
                if len(records) >= self.batch_size:
                    yield ParsedBatch(records, rejected, raw.tell(), number)
                    records, rejected = [], []
            yield ParsedBatch(records, rejected, raw.tell(), number)


def _detect(path: Path) -> Format:
    with path.open("rb") as raw:
        for line in _read_lines(raw):
            if line.number > _DETECT_LINES:
                break
            if not line.text or not line.text.strip():
                continue
            try:
                data = json.loads(line.text)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(data, dict) and (fmt := detect_format(data)):
                return fmt
    raise InvalidRequest(
        f"cannot tell the format of {path.name} from its first {_DETECT_LINES} lines; "
        f"pass --format ({', '.join(FORMATS)})"
    )


def _read_lines(raw: IO[bytes]) -> Iterator[_Line]:
    """Number the lines of a plain or gzip stream, refusing any longer than MAX_LINE_BYTES."""
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if _is_gzip(raw) else raw  # type: ignore[assignment]
    number = 0
    while True:
        try:
            chunk = stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:  # a corrupt or truncated gzip stream
            raise InvalidRequest(
                f"the file is corrupt or truncated after line {number:,}: {exc}"
            ) from None
        if not chunk:
            return
        number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield _Line(number, None, f"line longer than {MAX_LINE_BYTES:,} bytes")
            continue
        try:
            yield _Line(number, chunk.decode("utf-8"))
        except UnicodeDecodeError:
            yield _Line(number, None, "line is not valid UTF-8")


def _is_gzip(raw: IO[bytes]) -> bool:
    magic = raw.read(2)
    raw.seek(0)
    return magic == b"\x1f\x8b"


class _RejectWriter:
    """Writes rejected lines as JSON lines; the file exists only when something was rejected."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.count = 0
        self._file: IO[str] | None = None
        if path is None:
            return
        try:
            if path.exists() and not path.is_file():
                raise IsADirectoryError(21, "not a regular file")
            path.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidRequest(
                f"cannot write rejected records to {path}: {exc.strerror or exc}"
            ) from None

    def add(self, reject: Reject) -> None:
        line, arxiv_id, error, text = reject.line, reject.arxiv_id, reject.error, reject.text
        self.count += 1
        log.warning("line %d%s rejected: %s", line, f" ({arxiv_id})" if arxiv_id else "", error)
        if self.path is None:
            return
        if self._file is None:
            try:
                self._file = self.path.open("w", encoding="utf-8")
            except OSError as exc:
                raise InvalidRequest(
                    f"cannot write rejected records to {self.path}: {exc.strerror or exc}"
                ) from None
        entry = {
            "line": line,
            "arxiv_id": arxiv_id,
            "error": error,
            "record": text[:REJECT_SNIPPET_CHARS].rstrip("\n"),
            "truncated": len(text) > REJECT_SNIPPET_CHARS,
        }
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
