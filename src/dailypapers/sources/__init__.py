"""Upstream clients (arXiv OAI-PMH, query API, RSS) behind one polite HTTP client each.

Adapters: they may import domain and errors, never the store; the rate-limit budget they share
is handed in by the composition root.
"""

from dailypapers.sources.arxiv import ArxivSources, open_arxiv_sources
from dailypapers.sources.http import PoliteHttp, RateLimiter, RateSlots

__all__ = ["ArxivSources", "PoliteHttp", "RateLimiter", "RateSlots", "open_arxiv_sources"]
