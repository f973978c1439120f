"""Request dependencies and rendering: the services a handler needs, the clock, the templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Depends, Request
from fastapi import Path as PathParam

from dailypapers.domain.periods import Period, PeriodKind, period_of
from dailypapers.services import Services
from dailypapers.web.middleware.caching import ListCache

_TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class AppState:
    services: Services
    secret: str
    templates: jinja2.Environment
    list_cache: ListCache


async def get_state(request: Request) -> AppState:
    # async: a plain attribute read, not worth a hop through the thread pool.
    state: AppState = request.app.state.dp
    return state


State = Annotated[AppState, Depends(get_state)]
# Row ids in URLs: beyond a signed 64-bit integer no row exists, and the drivers refuse to bind one
# (a 500 before this bound), so such an id is a 400 like any other malformed id.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]


def utc_now() -> datetime:
    return datetime.now(UTC)


def author_url(name: str) -> str:
    return "/authors/" + quote(name, safe="")


def paper_url(arxiv_id: str) -> str:
    # Old-style ids keep their slash: /papers/hep-th/9901001, as on arXiv and Hugging Face.
    return "/papers/" + quote(arxiv_id, safe="/")


def with_query(path: str, **params: Any) -> str:
    """`path?params`, leaving out empty values and the default first page (p=0)."""
    kept = {k: v for k, v in params.items() if v is not None and v != "" and (k != "p" or v)}
    return f"{path}?{urlencode(kept)}" if kept else path


def _long_date(value: date) -> str:
    return f"{value:%A}, {value.day} {value:%B %Y}"


def _short_date(value: date | datetime) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def make_templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["author_url"] = author_url
    env.filters["paper_url"] = paper_url
    env.filters["period_url"] = period_url
    env.filters["as_kind"] = _as_kind
    env.filters["long_date"] = _long_date
    env.filters["short_date"] = _short_date
    env.globals["with_query"] = with_query
    return env


def render_html(state: AppState, template: str, **context: Any) -> str:
    context.setdefault("site_name", state.services.site.name)
    # The words in the header's search box: what the person typed, never the parsed query.
    context.setdefault("search_words", "")
    context.setdefault("nav", "")
    context.setdefault("feeds", [])
    # Community: the signed-in viewer (None when signed out) and the papers they upvoted.
    context.setdefault("viewer", None)
    context.setdefault("upvoted", frozenset())
    return state.templates.get_template(template).render(**context)


def _as_kind(period: Period, kind: PeriodKind) -> Period:
    return period_of(kind, period.start)


def period_url(period: Period) -> str:
    """Hugging Face's URL forms, so a user can swap the host: /papers/date|week|month/..."""
    kind = "date" if period.kind == "day" else period.kind
    return f"/papers/{kind}/{period.label}"
