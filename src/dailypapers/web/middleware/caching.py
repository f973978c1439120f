"""HTTP caching: a weak ETag from the body, Cache-Control, Last-Modified and 304s on every GET,
and a short-lived per-process cache of rendered lists.

The ETag is weak because GZipMiddleware may re-encode the body; it still validates the content.

Rendered lists (featured days, weeks, months, trending, /api/daily_papers) are kept per process
for LIST_CACHE_SECONDS (30 s). That is the whole staleness bound, with any number of workers:
each worker's copy expires on its own clock, 30 s after the store was read for it, so a vote,
comment or import shows on every list within 30 s (clients are told max-age=60). A signed-in
viewer's list is never taken from it. A hit is answered on the event loop, without a hop to the
thread pool. A list read again after 2/3 of its TTL is still served from the cache while one
background render replaces it (refresh-ahead), so a list in steady use never makes a reader wait
for a render; only a cold or fully expired list renders while the reader waits, in the pool.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeVar

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from dailypapers.store import Database

# Lists change when an import or a vote lands: a minute of staleness is fine for readers.
LIST_MAX_AGE_SECONDS = 60
# A paper page changes rarely (a new version, a vote).
PAPER_MAX_AGE_SECONDS = 300
FEED_MAX_AGE_SECONDS = 600
# Rendered lists are reused within a process for this long: well under LIST_MAX_AGE_SECONDS.
LIST_CACHE_SECONDS = 30.0
# A list read after this share of its TTL is re-rendered in the background (refresh-ahead).
LIST_REFRESH_AFTER = 2 / 3
# Memory one process may spend on rendered lists (bytes); the oldest go first past it.
LIST_CACHE_BYTES = 64 * 1024 * 1024


_T = TypeVar("_T")
_log = logging.getLogger(__name__)


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def cached(
    request: Request,
    body: bytes | str,
    media_type: str,
    *,
    max_age: int,
    last_modified: datetime | None = None,
    headers: dict[str, str] | None = None,
    etag: str | None = None,
) -> Response:
    """A 200 with validators, or a bodiless 304 when the client's copy is current.

    `etag`: the body's etag_for() when the caller already has it (a cached body).
    """
    data = body.encode() if isinstance(body, str) else body
    etag = etag or etag_for(data)
    out = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", **(headers or {})}
    if last_modified is not None:
        out["Last-Modified"] = format_datetime(last_modified.replace(microsecond=0), usegmt=True)
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=out)
    return Response(content=data, media_type=media_type, headers=out)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x" and W/"x".
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        since_at = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if since_at.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since_at


@dataclass(frozen=True, slots=True)
class CachedBody:
    body: bytes
    media_type: str
    headers: dict[str, str]
    # Hashed once when the body is made, not on every response that serves it.
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag_for(self.body))


class ListCache:
    """Rendered list bodies (featured days, weeks, months, trending), per process, for a few
    seconds: a list costs several queries and a template, and readers ask for the same few days.

    Staleness is bounded by `ttl_seconds`, below the max-age clients are already told. Each
    worker process keeps its own copy; nothing here has to be shared between processes.
    """

    def __init__(self, *, ttl_seconds: float, max_bytes: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, CachedBody]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._refreshing: set[str] = set()

    def lookup(self, key: str) -> tuple[CachedBody | None, bool]:
        """(the body if younger than the TTL, whether the caller should refresh it now).

        True is answered once per key until `refresh` has run: a single render per list.
        """
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None or now - found[0] >= self.ttl_seconds:
                return None, False
            self._entries.move_to_end(key)
            due = now - found[0] >= self.ttl_seconds * LIST_REFRESH_AFTER
            if due and key not in self._refreshing:
                self._refreshing.add(key)
                return found[1], True
            return found[1], False

    def refresh(self, key: str, make: Callable[[], CachedBody]) -> None:
        """Render `key` again and keep it (after `lookup` said so)."""
        try:
            now = time.monotonic()
            made = make()
            if len(made.body) <= self.max_bytes // 8:
                with self._lock:
                    self._store(key, now, made)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def get(self, key: str) -> CachedBody | None:
        """The body cached under `key` if it is younger than the TTL."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[0] < self.ttl_seconds:
                self._entries.move_to_end(key)
                return found[1]
        return None

    def get_or_make(self, key: str, make: Callable[[], CachedBody]) -> CachedBody:
        found = self.get(key)
        if found is not None:
            return found
        now = time.monotonic()
        made = make()  # outside the lock: two misses may both render; the last one stays
        if len(made.body) <= self.max_bytes // 8:
            with self._lock:
                self._store(key, now, made)
        return made

    def _store(self, key: str, now: float, made: CachedBody) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1].body)
        self._entries[key] = (now, made)
        self._bytes += len(made.body)
        while self._bytes > self.max_bytes and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)


def request_key(request: Request) -> str:
    """The cache key of a GET: path plus the query parameters in a canonical order.

    Read from the raw scope (building request.url costs more than the rest of a cache hit). Two
    spellings of the same parameters may get two entries; two different queries never share one.
    """
    query = request.scope.get("query_string", b"").decode("latin-1")
    path: str = request.scope["path"]
    return path + "?" + "&".join(sorted(query.split("&")))


def cached_list(
    request: Request,
    cache: ListCache,
    make: Callable[[], CachedBody],
    *,
    max_age: int = LIST_MAX_AGE_SECONDS,
) -> Response:
    made = cache.get_or_make(request_key(request), make)
    return _serve(request, made, max_age)


async def cached_list_async(
    request: Request,
    cache: ListCache,
    make: Callable[[], CachedBody],
    *,
    max_age: int = LIST_MAX_AGE_SECONDS,
) -> Response:
    """cached_list for an async handler: a hit is served on the event loop, a miss is made in
    the thread pool (it reads the store and renders)."""
    key = request_key(request)
    made, refresh = cache.lookup(key)
    if made is None:
        made = await run_in_threadpool(cache.get_or_make, key, make)
    elif refresh:
        _in_background(run_in_threadpool(cache.refresh, key, make))
    return _serve(request, made, max_age)


# Background refreshes in flight: the event loop keeps only weak references to tasks.
_background: set[asyncio.Task[None]] = set()


def _in_background(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)
    task.add_done_callback(_finished)


def _finished(task: asyncio.Task[None]) -> None:
    _background.discard(task)
    if not task.cancelled() and task.exception() is not None:
        # The list keeps its current copy until its TTL; a reader then renders it (and sees
        # the error, if it persists).
        _log.warning("refreshing a cached list failed", exc_info=task.exception())


def _serve(request: Request, made: CachedBody, max_age: int) -> Response:
    return cached(
        request,
        made.body,
        made.media_type,
        max_age=max_age,
        headers=made.headers,
        etag=made.etag,
    )


async def point_read(db: Database, read: Callable[[], _T]) -> _T:
    """Run a bounded read (one paper by id) and its rendering for an async handler.

    On SQLite the store is a library call on a local file: a paper by primary key takes ~0.1 ms,
    less than the hop to the thread pool and back (~0.5 ms of CPU on a busy worker), so it runs
    right here on the event loop. On PostgreSQL a query waits on the network, which must never
    block the loop, so it goes to the thread pool.
    """
    if db.reads_in_process:
        return read()
    return await run_in_threadpool(read)
