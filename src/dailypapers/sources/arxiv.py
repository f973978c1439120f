"""The three arXiv clients built on one polite HTTP client, as arXiv counts them as one budget."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from dailypapers.sources.arxiv_api import ArxivApiClient
from dailypapers.sources.http import PoliteHttp, RateLimiter, RateSlots
from dailypapers.sources.oai import OaiPmhClient
from dailypapers.sources.rss import ArxivRssClient


@dataclass(frozen=True)
class ArxivSources:
    http: PoliteHttp
    oai: OaiPmhClient
    api: ArxivApiClient
    rss: ArxivRssClient

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ArxivSources:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_arxiv_sources(
    slots: RateSlots,
    *,
    oai_url: str,
    api_url: str,
    rss_url: str,
    min_interval_seconds: float,
    user_agent: str,
    timeout_seconds: float = 30.0,
    max_retries: int = 5,
    backoff_seconds: float | None = None,
) -> ArxivSources:
    """Clients sharing one connection and one budget; backoff defaults to the interval."""
    http = PoliteHttp(
        RateLimiter(slots, min_interval_seconds),
        user_agent=user_agent,
        timeout_seconds=timeout_seconds,
        max_retries=max_retries,
        backoff_seconds=min_interval_seconds if backoff_seconds is None else backoff_seconds,
    )
    return ArxivSources(
        http=http,
        oai=OaiPmhClient(http, oai_url),
        api=ArxivApiClient(http, api_url),
        rss=ArxivRssClient(http, rss_url),
    )
