"""The per-process list cache: TTL, refresh-ahead claimed once per key, hard expiry."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from dailypapers.web.middleware.caching import LIST_REFRESH_AFTER, CachedBody, ListCache

TTL = 1.5


def _maker() -> tuple[list[int], Callable[[], CachedBody]]:
    made = [0]

    def make() -> CachedBody:
        made[0] += 1
        return CachedBody(f"v{made[0]}".encode(), "text/plain", {})

    return made, make


def test_fresh_entry_is_served_without_refresh() -> None:
    cache = ListCache(ttl_seconds=TTL, max_bytes=1_000_000)
    made, make = _maker()
    assert cache.get_or_make("k", make).body == b"v1"
    body, refresh = cache.lookup("k")
    assert body is not None and body.body == b"v1" and refresh is False
    assert body.etag.startswith('W/"')
    assert made == [1]


def test_refresh_ahead_is_claimed_once_then_replaces_the_body() -> None:
    cache = ListCache(ttl_seconds=TTL, max_bytes=1_000_000)
    made, make = _maker()
    cache.get_or_make("k", make)
    time.sleep(TTL * LIST_REFRESH_AFTER + 0.05)
    body, refresh = cache.lookup("k")
    assert body is not None and body.body == b"v1" and refresh is True
    # A second reader meanwhile gets the same copy and no second refresh.
    body, refresh = cache.lookup("k")
    assert body is not None and body.body == b"v1" and refresh is False
    cache.refresh("k", make)
    body, refresh = cache.lookup("k")
    assert body is not None and body.body == b"v2" and refresh is False
    assert made == [2]


def test_expired_entry_is_a_miss_and_a_failed_refresh_frees_the_claim() -> None:
    cache = ListCache(ttl_seconds=TTL, max_bytes=1_000_000)
    _, make = _maker()
    cache.get_or_make("k", make)
    time.sleep(TTL * LIST_REFRESH_AFTER + 0.05)
    assert cache.lookup("k")[1] is True

    def broken() -> CachedBody:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        cache.refresh("k", broken)
    assert cache.lookup("k")[1] is True  # claimable again after the failure
    time.sleep(TTL)
    assert cache.lookup("k") == (None, False)
    assert cache.get("k") is None
