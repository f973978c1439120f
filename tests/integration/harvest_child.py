"""Run one real harvest in its own process, as `dailypapers harvest` will: for the kill and
shared-limiter tests. Usage: python -m tests.integration.harvest_child DB_URL OAI_URL SET INTERVAL
"""

from __future__ import annotations

import json
import sys

from dailypapers import __version__
from dailypapers.ingest.harvest import harvest
from dailypapers.sources import ArxivSources, open_arxiv_sources
from dailypapers.sources.http import user_agent
from dailypapers.store import Database, open_database
from dailypapers.store.limits import StoreRateSlots

TEST_CONTACT = "harvest-tests@example.org"


def open_sources(
    db: Database, url: str, *, interval: float = 0.05, retries: int = 3, backoff: float = 0.05
) -> ArxivSources:
    """The production wiring (services.Services.open_arxiv), pointed at a replay server."""
    return open_arxiv_sources(
        StoreRateSlots(db, "arxiv"),
        oai_url=f"{url}/oai",
        api_url=f"{url}/api/query",
        rss_url=f"{url}/rss",
        min_interval_seconds=interval,
        user_agent=user_agent(__version__, TEST_CONTACT),
        timeout_seconds=10.0,
        max_retries=retries,
        backoff_seconds=backoff,
    )


def main(argv: list[str]) -> int:
    db_url, oai_url, set_spec, interval = argv[0], argv[1], argv[2], float(argv[3])
    db = open_database(db_url)
    with open_sources(db, oai_url, interval=interval) as arxiv:
        report = harvest(db, arxiv.oai, set_spec=set_spec)
    print(json.dumps({"pages": report.pages, "records": report.counts.papers_seen}))
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
