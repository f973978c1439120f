"""The /status page: how fresh the store is against arXiv's calendar (catalog/status.py)."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

from dailypapers.catalog.status import compute_status
from dailypapers.web.deps import State, render_html, utc_now


def status_page(state: State) -> HTMLResponse:
    services = state.services
    report = compute_status(
        services.db, services.search_index, now=utc_now(), grace_hours=services.harvest.grace_hours
    )
    html = render_html(state, "status.html", report=report, nav="status")
    # Late or failing is still a page that rendered; monitors read the 503 instead of the words.
    return HTMLResponse(html, status_code=200 if report.healthy else 503)
