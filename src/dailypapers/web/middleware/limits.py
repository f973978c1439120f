"""Per-address limits on the JSON API, the feeds and search: a token bucket per client address,
kept in each worker process.

Why in the process and not in the store (where the sign-in, comment, submission and subscription
counters live): those guard rare writes, so a store write per hit costs nothing; a read-API
limit would add a store write to every API request, and on SQLite every worker would queue on
the one write lock (docs/security.md has the measurement). A bucket in memory costs about a
microsecond. The price, documented with the settings: with N workers a client may get up to N
times the limit, which still bounds what one address can cost the server.

- The client address is `request.client.host`: behind the reverse proxy, uvicorn's proxy
  headers middleware (see request_context.py) has put the X-Forwarded-For address there, and
  only for a trusted proxy, so a direct client cannot claim another address.
- IPv6 clients are limited per /64 (one host usually owns a whole /64).
- A search costs more when it embeds the query (semantic or hybrid, with words).
- Over the limit: 429 with Retry-After, a JSON error under /api/, plain text under /feeds/ and
  the HTML error page elsewhere (web/errors.py's error_response picks); the handler never runs,
  so a flood costs a dictionary lookup per request.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from urllib.parse import parse_qsl

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from dailypapers.services import RequestLimits
from dailypapers.web.errors import error_response

# Addresses remembered per bucket set; past it the least recently seen is forgotten (which only
# ever gives that address a fresh bucket), so a spray of addresses cannot exhaust memory.
MAX_TRACKED_CLIENTS = 50_000
_SEARCH_PATHS = frozenset({"/search", "/api/papers/search"})
_KEYWORD_MODES = frozenset({"keyword"})


def client_address(scope: Scope) -> str:
    """The client's address as the app sees it (after trusted proxy headers); "unknown" when the
    server gives none (e.g. a Unix socket)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


def client_ip(request: Request) -> str:
    """client_address for a handler: the address recorded with sign-ins and subscriptions."""
    return client_address(request.scope)


def bucket_key(address: str) -> str:
    """One bucket per IPv4 address and per IPv6 /64."""
    if ":" not in address:
        return address
    try:
        network = ipaddress.IPv6Network(f"{address}/64", strict=False)
    except ValueError:
        return address
    return str(network)


class TokenBuckets:
    """Token buckets of `per_minute` tokens, refilled evenly; one per key, least recent evicted."""

    def __init__(self, per_minute: int, *, max_keys: int = MAX_TRACKED_CLIENTS) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, cost: float, now: float) -> float:
        """Spend `cost` tokens of `key`'s bucket: 0.0 when granted, else seconds until it would
        be (nothing is spent then)."""
        cost = min(cost, self.capacity)
        tokens, stamp = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - stamp) * self.rate)
        wait = 0.0
        if tokens >= cost:
            tokens -= cost
        else:
            wait = (cost - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


def search_cost(query_string: bytes, semantic_cost: int) -> int:
    """A keyword search (or a page with no words) costs 1; one that embeds its words more."""
    params = dict(parse_qsl(query_string.decode("latin-1")))
    words = params.get("q", "").strip()
    if not words or params.get("mode", "").strip().lower() in _KEYWORD_MODES:
        return 1
    return semantic_cost


class RateLimits:
    """ASGI middleware: the API and feeds share one bucket per address, search has its own."""

    def __init__(self, app: ASGIApp, *, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits
        self.api = TokenBuckets(limits.api_per_minute)
        self.search = TokenBuckets(limits.search_per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            wait = self._wait(scope)
            if wait > 0:
                request = Request(scope)
                seconds = max(1, math.ceil(wait))
                response = error_response(
                    request,
                    429,
                    f"Too many requests from your address. Please try again in {seconds} "
                    f"second{'s' if seconds != 1 else ''}.",
                )
                response.headers["Retry-After"] = str(seconds)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _wait(self, scope: Scope) -> float:
        path: str = scope["path"]
        if path in _SEARCH_PATHS or path.startswith("/feeds/search."):
            cost = search_cost(scope.get("query_string", b""), self.limits.semantic_cost)
            buckets = self.search
        elif path.startswith(("/api/", "/feeds/")):
            cost = 1
            buckets = self.api
        else:
            return 0.0
        return buckets.take(bucket_key(client_address(scope)), cost, time.monotonic())
