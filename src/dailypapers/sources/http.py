"""The polite upstream HTTP client: one connection, one shared turn per request, retries.

Every request first takes a turn from a `RateSlots` budget that the caller provides (the store
keeps it, so all processes share it), retries transient failures with exponential backoff and
jitter, and honours Retry-After on 429 and 5xx answers by pushing the shared budget back.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Protocol

import httpx

from dailypapers.errors import SourceUnavailable

log = logging.getLogger(__name__)

# Answers worth another try: rate limiting and the gateway/overload family.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Longest backoff between two tries when the upstream gives no Retry-After (seconds).
MAX_BACKOFF_SECONDS = 300.0
# A Retry-After beyond this (seconds) ends the call: better a clear error than a silent hour-long
# wait. A harvest keeps its resumption token, so a later run picks up where this one stopped.
MAX_RETRY_AFTER_SECONDS = 900.0
# A response body larger than this is refused unread: a 1,000-record OAI-PMH page is ~3 MB.
MAX_BODY_BYTES = 64 * 1024 * 1024
# A whole response may take this many times the per-read timeout (slow, but never endless).
TOTAL_TIMEOUT_FACTOR = 4


class RateSlots(Protocol):
    """A request budget shared by every process (implemented by the store's `StoreRateSlots`)."""

    def try_take(self, now: datetime, min_interval_seconds: float) -> float:
        """Take the turn and return 0.0, or return the seconds until a turn may be due."""
        ...

    def push_back(self, until: datetime) -> None: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class RateLimiter:
    """Spaces requests at least `min_interval_seconds` apart, measured from the last response.

    A turn is taken before a request and the budget is pushed to `response time + interval`
    after it, so the gap between requests holds even when a request takes long to arrive.
    """

    def __init__(
        self,
        slots: RateSlots,
        min_interval_seconds: float,
        *,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.slots = slots
        self.min_interval_seconds = min_interval_seconds
        self._clock = clock
        self._sleep = sleep

    def wait_turn(self) -> None:
        while True:
            wait = self.slots.try_take(self._clock(), self.min_interval_seconds)
            if wait <= 0:
                return
            # Another process may take the turn first; then try_take says how long to wait again.
            self._sleep(wait + 0.001)

    def finished(self) -> None:
        self.defer(self.min_interval_seconds)

    def defer(self, seconds: float) -> None:
        self.slots.push_back(self._clock() + timedelta(seconds=seconds))


@dataclass(frozen=True, slots=True)
class HttpResponse:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


def user_agent(version: str, contact_email: str | None, site_url: str | None = None) -> str:
    """A User-Agent that names us and says who to write to, as arXiv asks of API clients."""
    parts = [f"+{site_url}" if site_url else "", f"mailto:{contact_email}" if contact_email else ""]
    shown = "; ".join(part for part in parts if part)
    return f"dailypapers/{version}" + (f" ({shown})" if shown else "")


class PoliteHttp:
    """GET with one keep-alive connection, a shared rate limit, retries and Retry-After.

    `get` returns 2xx-4xx answers (except 429) for the caller to read, and raises
    `SourceUnavailable` when the upstream stays unreachable or overloaded after the retries.
    """

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        user_agent: str,
        timeout_seconds: float = 30.0,
        max_retries: int = 5,
        backoff_seconds: float = 3.0,
    ) -> None:
        self.limiter = limiter
        # httpx's timeouts are per connect, read and write: an upstream that sends one byte just
        # inside each read timeout would hold a request forever. This bounds the whole response.
        self.total_timeout_seconds = timeout_seconds * TOTAL_TIMEOUT_FACTOR
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self._lock = threading.Lock()
        self._client = httpx.Client(
            headers={"User-Agent": user_agent},
            timeout=httpx.Timeout(timeout_seconds),
            # One connection, reused: arXiv counts connections as well as requests.
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=True,
            max_redirects=3,
        )

    def get(self, url: str, params: Mapping[str, str] | None = None) -> HttpResponse:
        with self._lock:
            return self._get_with_retries(url, dict(params or {}))

    def _get_with_retries(self, url: str, params: dict[str, str]) -> HttpResponse:
        problem = "no attempt made"
        for attempt in range(self.max_retries + 1):
            self.limiter.wait_turn()
            try:
                response = self._fetch(url, params)
            except httpx.TransportError as exc:
                self.limiter.finished()
                problem = f"{type(exc).__name__}: {exc}"
                delay = self._backoff(attempt)
            else:
                self.limiter.finished()
                if response.status not in RETRYABLE_STATUSES:
                    return response
                problem = f"HTTP {response.status}"
                retry_after = parse_retry_after(response.headers.get("retry-after"), utc_now())
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
                    raise SourceUnavailable(
                        f"{url} answered {problem} and asks us to wait {retry_after:.0f} s; "
                        "try again later"
                    )
                delay = retry_after if retry_after is not None else self._backoff(attempt)
            if attempt == self.max_retries:
                break
            log.warning("%s: %s; retrying in %.1f s", url, problem, delay)
            # Pushing the shared budget back makes every process wait, not only this one.
            self.limiter.defer(delay)
        raise SourceUnavailable(f"{url} is unavailable ({problem}) after {attempt + 1} attempts")

    def _fetch(self, url: str, params: dict[str, str]) -> HttpResponse:
        deadline = time.monotonic() + self.total_timeout_seconds
        with self._client.stream("GET", url, params=params) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(
                        f"the response took more than {self.total_timeout_seconds:.0f} s in all"
                    )
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise SourceUnavailable(f"{url} sent more than {MAX_BODY_BYTES:,} bytes")
                chunks.append(chunk)
            return HttpResponse(
                url=str(response.url),
                status=response.status_code,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=b"".join(chunks),
            )

    def _backoff(self, attempt: int) -> float:
        base = min(self.backoff_seconds * 2.0**attempt, MAX_BACKOFF_SECONDS)
        return base * (1 + random.random() / 2)  # jitter keeps retrying processes apart

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PoliteHttp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
