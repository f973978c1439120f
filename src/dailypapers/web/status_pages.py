"""The /status page: how fresh the store is against arXiv's calendar (catalog/status.py), and
whether the links the site writes name the address it is reached at."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse

from dailypapers.catalog.status import compute_status
from dailypapers.web.deps import State, render_html, utc_now
from dailypapers.web.middleware.request_context import FORWARDED_HOST_KEY

_DEFAULT_PORTS = {"http": 80, "https": 443}


def status_page(request: Request, state: State) -> HTMLResponse:
    services = state.services
    report = compute_status(
        services.db, services.search_index, now=utc_now(), grace_hours=services.harvest.grace_hours
    )
    html = render_html(
        state,
        "status.html",
        report=report,
        nav="status",
        base_url=services.site.base_url,
        reached_at=reached_elsewhere(request, services.site.base_url),
    )
    # Late or failing is still a page that rendered; monitors read the 503 instead of the words.
    return HTMLResponse(html, status_code=200 if report.healthy else 503)


def reached_elsewhere(request: Request, base_url: str) -> str | None:
    """The host:port this request reached when it is not base_url's (ports defaulted by scheme),
    else None. Behind a trusted proxy that is its X-Forwarded-Host, else the Host header."""
    forwarded = request.scope.get(FORWARDED_HOST_KEY)
    reached = forwarded if isinstance(forwarded, str) else request.headers.get("host", "")
    if not reached:
        return None
    try:
        if _host_port(urlsplit(f"{request.url.scheme}://{reached}")) == _host_port(
            urlsplit(base_url)
        ):
            return None
    except ValueError:  # a Host header that is no host:port says nothing either way
        return None
    return reached


def _host_port(parts: SplitResult) -> tuple[str | None, int]:
    """Raises ValueError for a port that is not a number in range."""
    return parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
