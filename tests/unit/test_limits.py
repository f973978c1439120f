"""The per-address token buckets of web/middleware/limits.py: bursts, refill, waits, costs and
memory."""

from __future__ import annotations

from dailypapers.web.middleware.limits import TokenBuckets, bucket_key, search_cost


def test_a_bucket_allows_its_burst_then_refuses_with_the_wait_until_a_token() -> None:
    buckets = TokenBuckets(60)  # one token a second
    assert all(buckets.take("a", 1, now=100.0) == 0.0 for _ in range(60))
    wait = buckets.take("a", 1, now=100.0)
    assert 0.99 < wait <= 1.0
    # A refusal spends nothing: half a second later half a token is there, not less.
    assert 0.49 < buckets.take("a", 1, now=100.5) <= 0.5
    assert buckets.take("a", 1, now=101.0) == 0.0
    # Another address has its own bucket.
    assert buckets.take("b", 1, now=101.0) == 0.0


def test_refill_is_capped_at_the_burst() -> None:
    buckets = TokenBuckets(10)
    assert buckets.take("a", 10, now=0.0) == 0.0
    # An idle hour refills to 10 tokens, not 600.
    assert all(buckets.take("a", 1, now=3600.0) == 0.0 for _ in range(10))
    assert buckets.take("a", 1, now=3600.0) > 0


def test_costly_requests_drain_faster_and_never_exceed_the_burst() -> None:
    buckets = TokenBuckets(8)
    assert buckets.take("a", 4, now=0.0) == 0.0
    assert buckets.take("a", 4, now=0.0) == 0.0
    assert buckets.take("a", 4, now=0.0) == 4 / (8 / 60)
    # A cost above the burst counts as the whole burst, so it can still pass once full.
    assert TokenBuckets(2).take("b", 50, now=0.0) == 0.0


def test_memory_is_bounded_by_forgetting_the_least_recent_address() -> None:
    buckets = TokenBuckets(1, max_keys=3)
    for key in "abc":
        buckets.take(key, 1, now=0.0)
    buckets.take("a", 1, now=0.0)  # a is recent again; b is now the oldest
    buckets.take("d", 1, now=0.0)
    assert len(buckets) == 3
    assert buckets.take("b", 1, now=0.0) == 0.0  # forgotten: a fresh bucket
    assert buckets.take("a", 1, now=0.0) > 0  # remembered: still empty


def test_ipv6_clients_share_a_bucket_per_64() -> None:
    assert bucket_key("2001:db8:1:2:aaaa::1") == bucket_key("2001:db8:1:2:bbbb::9")
    assert bucket_key("2001:db8:1:2::1") != bucket_key("2001:db8:1:3::1")
    assert bucket_key("192.0.2.7") == "192.0.2.7"
    assert bucket_key("unknown") == "unknown"
    assert bucket_key("not:an:address") == "not:an:address"


def test_searches_that_embed_their_words_cost_more() -> None:
    assert search_cost(b"q=graph+networks", 4) == 4  # hybrid is the default mode
    assert search_cost(b"q=graph&mode=semantic", 4) == 4
    assert search_cost(b"q=graph&mode=keyword", 4) == 1
    assert search_cost(b"q=&cat=cs.LG", 4) == 1  # filters only: no embedding
    assert search_cost(b"", 4) == 1
    assert search_cost(b"q=%ff%fe%00&mode=%ZZ", 4) == 4  # garbage never raises
