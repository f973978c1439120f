"""create_app: the FastAPI application, its middleware, error mapper and the route listing of
web/routes.py."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from dailypapers import __version__
from dailypapers.config import load_settings
from dailypapers.services import Services, build, require_current_schema
from dailypapers.web import docs
from dailypapers.web.api_models import tidy_openapi
from dailypapers.web.deps import AppState, make_templates
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.middleware import metrics
from dailypapers.web.middleware.caching import LIST_CACHE_BYTES, LIST_CACHE_SECONDS, ListCache
from dailypapers.web.middleware.limits import RateLimits
from dailypapers.web.middleware.request_context import RequestContext
from dailypapers.web.middleware.security import SecurityHeaders
from dailypapers.web.routes import all_routes

log = logging.getLogger(__name__)
_HERE = Path(__file__).parent
# Bodies smaller than this are not worth compressing (bytes).
GZIP_MINIMUM_BYTES = 1_000
# zlib level 5: 1 % larger than level 9 on a 100 KB JSON list, at 63 % of its CPU (measured).
GZIP_LEVEL = 5
API_DESCRIPTION = (
    "Compatible with the Hugging Face papers API: point `huggingface_hub.HfApi(endpoint=...)`, "
    "`HF_ENDPOINT` or the `hf papers` CLI at this server. Errors are "
    '`{"error": {"code", "message"}}` with the status each operation lists (400, 404, and 429 '
    "with Retry-After past the per-address limits)."
)


def _document_statuses_sent(app: FastAPI) -> None:
    """/openapi.json lists the 400 the error mapper sends, not FastAPI's default 422."""
    make = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = tidy_openapi(make())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    services: Services,
    *,
    trusted_proxies: Iterable[str] | None = None,
    access_log: bool | None = None,
    metrics_allow: Iterable[str] | None = None,
) -> FastAPI:
    """The app over `services`; the keyword arguments override the settings' web policy."""
    web = services.web
    trusted_proxies = web.trusted_proxies if trusted_proxies is None else trusted_proxies
    access_log = web.access_log if access_log is None else access_log
    metrics_allow = web.metrics_allow if metrics_allow is None else metrics_allow
    app = FastAPI(
        title=services.site.name,
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dp = AppState(
        services=services,
        secret=services.secret,
        templates=make_templates(),
        list_cache=ListCache(ttl_seconds=LIST_CACHE_SECONDS, max_bytes=LIST_CACHE_BYTES),
    )
    install_error_handlers(app)
    _document_statuses_sent(app)
    if services.web.request_limits is not None:
        # Innermost: a refused request still gets the security headers, request id and metrics.
        app.add_middleware(RateLimits, limits=services.web.request_limits)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.mount(docs.ASSETS_PATH, docs.docs_assets(), name="docs-assets")
    metrics.install(app, services, metrics_allow)
    for router in all_routes():
        app.include_router(router)
    # Added last, so outermost: every other middleware sees the forwarded client and scheme.
    app.add_middleware(RequestContext, trusted_proxies=trusted_proxies, access_log=access_log)
    return app


def create_app_from_environment() -> FastAPI:
    """The uvicorn factory: every worker process builds its own services from the environment."""
    services = build(load_settings())
    require_current_schema(services.db)
    app = create_app(services)
    _warm_up(services)
    return app


def _warm_up(services: Services) -> None:
    """Open the query model and run it once in the background while the worker starts, so the
    first semantic search after a start does not pay for it (about 200 ms here)."""
    semantic = services.search_index.semantic
    if semantic is None:
        return

    def warm() -> None:
        try:
            embedder = semantic.query_embedder()
            if embedder is not None:
                embedder.embed(["warming up the query model"])
        except Exception:  # a failed warm-up only costs the first query its load time
            log.warning("could not warm up the query model", exc_info=True)

    threading.Thread(target=warm, name="warm-up", daemon=True).start()
