"""Prometheus metrics: per-route request counts and latencies, search latency, and gauges read
from the store at scrape time (index lag, harvest lag, digest deliveries).

Counters and histograms live in this process. When several workers serve (PROMETHEUS_MULTIPROC_DIR
set, as `dailypapers serve --workers N` does), prometheus_client keeps them in per-process files
in that folder and /metrics sums every worker's files, whichever worker answers the scrape.
The store-derived gauges need none of that: every worker reads the same store.
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dailypapers.catalog.status import compute_status
from dailypapers.services import Services
from dailypapers.store.deliveries import summarise
from dailypapers.web.deps import State

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# The *_created series say when a process first counted; multiprocess mode has none, so neither
# has a single process.
disable_created_metrics()  # type: ignore[no-untyped-call]
# Latency buckets (seconds): pages answer in milliseconds, a cold semantic search in a second.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A request no route matched (a 404 for a made-up path) counts under this one label, so that
# scanners cannot grow the label set.
UNMATCHED = "<unmatched>"
# Store-derived gauges are recomputed at most this often per process (seconds).
STORE_GAUGES_SECONDS = 5.0

REQUESTS = Counter(
    "dailypapers_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "dailypapers_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
    buckets=BUCKETS,
)
IN_PROGRESS = Gauge(
    "dailypapers_http_requests_in_progress",
    "Requests being answered now, summed over live workers.",
    multiprocess_mode="livesum",
)
SEARCH_LATENCY = Histogram(
    "dailypapers_search_duration_seconds",
    "Time one search takes (keyword, semantic or hybrid), from the page, the feed or the API.",
    ["mode"],
    buckets=BUCKETS,
)


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


@contextmanager
def in_progress() -> Iterator[None]:
    IN_PROGRESS.inc()
    try:
        yield
    finally:
        IN_PROGRESS.dec()


class Networks:
    """A set of addresses and networks; "*" matches every client."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = list(entries)
        self.everyone = "*" in entries
        self.networks = [ipaddress.ip_network(e, strict=False) for e in entries if e != "*"]

    def __contains__(self, host: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(host, str):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)


class StoreGauges(Collector):
    """Gauges computed from the store and the index on disk, cached for a few seconds."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > STORE_GAUGES_SECONDS:
                self._cached = (now, self._compute())
            return list(self._cached[1])

    def _compute(self) -> list[Metric]:
        services = self.services
        now = datetime.now(UTC)
        report = compute_status(
            services.db,
            services.search_index,
            now=now,
            grace_hours=services.harvest.grace_hours,
            jobs=(),
        )
        index, lag = report.index, report.lag
        out: list[Metric] = [
            _gauge(
                "dailypapers_index_lag_changes",
                "Store changes (change_seq values) the search index on disk has not caught up "
                "with.",
                index.behind,
            ),
            _gauge(
                "dailypapers_index_documents",
                "Papers in the current index generation.",
                index.documents,
            ),
            _gauge(
                "dailypapers_index_generation",
                "The current index generation (-1: none built yet).",
                -1 if index.generation is None else index.generation,
            ),
            _gauge(
                "dailypapers_index_age_seconds",
                "Seconds since the current index generation was built (-1: none built yet).",
                (now - index.built_at).total_seconds() if index.built_at else -1,
            ),
        ]
        last = lag.last_harvest_at
        behind = (
            (now - lag.expected_announcement_at).total_seconds()
            if last is None or last < lag.expected_announcement_at
            else 0.0
        )
        out += [
            _gauge(
                "dailypapers_harvest_last_success_timestamp_seconds",
                "When the last successful harvest finished, Unix time (0: never).",
                last.timestamp() if last else 0,
            ),
            _gauge(
                "dailypapers_harvest_lag_seconds",
                "Seconds since the newest arXiv announcement the store has not harvested yet "
                "(0: caught up).",
                max(behind, 0.0),
            ),
            _gauge(
                "dailypapers_harvest_late",
                "1 when the harvest is later than harvest_grace_hours after an announcement.",
                1 if lag.state == "late" else 0,
            ),
        ]
        newest = GaugeMetricFamily(
            "dailypapers_harvest_newest_datestamp_seconds",
            "Per OAI-PMH set: the newest record datestamp harvested, Unix time (0: none yet).",
            labels=["set"],
        )
        failing = GaugeMetricFamily(
            "dailypapers_harvest_failed",
            "Per OAI-PMH set: 1 when its last harvest failed (resumed by the next run).",
            labels=["set"],
        )
        for cursor in report.cursors:
            name = cursor.set_spec or "*"
            stamp = cursor.last_datestamp
            midnight = datetime(stamp.year, stamp.month, stamp.day, tzinfo=UTC) if stamp else None
            newest.add_metric([name], midnight.timestamp() if midnight else 0)
            failing.add_metric([name], 1 if cursor.status == "failed" else 0)
        out += [newest, failing]
        with services.db.read() as conn:
            summary = summarise(conn)
        deliveries = GaugeMetricFamily(
            "dailypapers_digest_deliveries",
            "Digest deliveries in the ledger by status (sent, failed, bounced, retry, ...), all "
            "periods.",
            labels=["status"],
        )
        totals: dict[str, int] = {"sent": 0, "failed": 0}
        for per_status in summary.periods.values():
            for status, n in per_status.items():
                totals[status] = totals.get(status, 0) + n
        for status, n in sorted(totals.items()):
            deliveries.add_metric([status], n)
        subscribers = GaugeMetricFamily(
            "dailypapers_digest_subscribers",
            "Digest subscribers by status.",
            labels=["status"],
        )
        for status, n in sorted(summary.subscribers.items()):
            subscribers.add_metric([str(status)], n)
        return [*out, deliveries, subscribers]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w*_(\d+)\.db$")


def reap_dead_workers(path: Path) -> list[int]:
    """mark_process_dead for every worker whose live-gauge files remain but whose process is gone
    (a crashed or restarted worker), so its in-progress requests stop counting."""
    dead = set()
    for file in path.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.search(file.name)
        if match and not _alive(int(match.group(1))):
            dead.add(int(match.group(1)))
    for pid in dead:
        multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return sorted(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def exposition(services: Services, store_gauges: StoreGauges | None = None) -> bytes:
    """Every metric in the text format: this process's (or all workers') and the store's."""
    store = CollectorRegistry(auto_describe=False)
    store.register(store_gauges or StoreGauges(services))
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY) + generate_latest(store)
    reap_dead_workers(folder)
    workers = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(workers, str(folder))  # type: ignore[no-untyped-call]
    return generate_latest(workers) + generate_latest(store)


def install(app: FastAPI, services: Services, allow: Iterable[str]) -> None:
    """Let the clients `allow` names read /metrics (web/routes.py), and time every search."""
    app.state.metrics_allowed = Networks(allow)
    app.state.metrics_gauges = StoreGauges(services)
    services.search_index.on_search = observe_search


def observe_search(mode: str, seconds: float) -> None:
    """Time one search (page, feed or API) into dailypapers_search_duration_seconds."""
    SEARCH_LATENCY.labels(mode).observe(seconds)


def metrics(request: Request, state: State) -> Response:
    allowed: Networks = request.app.state.metrics_allowed
    if request.client is None or request.client.host not in allowed:
        return Response("Not Found\n", status_code=404, media_type="text/plain")
    return Response(
        exposition(state.services, request.app.state.metrics_gauges),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
