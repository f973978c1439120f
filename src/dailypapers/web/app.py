"""create_app: the FastAPI application, its middleware and its route table."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from dailypapers import __version__
from dailypapers.config import load_settings
from dailypapers.services import Services, build, require_current_schema, secret_key
from dailypapers.web import (
    account_pages,
    api,
    community_api,
    community_pages,
    digest_pages,
    docs,
    feeds,
    metrics,
    moderation_pages,
    pages,
    saved_search_pages,
    status_pages,
)
from dailypapers.web.api_models import tidy_openapi
from dailypapers.web.caching import LIST_CACHE_BYTES, LIST_CACHE_SECONDS, ListCache
from dailypapers.web.deps import AppState, make_templates
from dailypapers.web.errors import install_error_handlers
from dailypapers.web.limits import RateLimits
from dailypapers.web.request_context import RequestContext
from dailypapers.web.security import SecurityHeaders

_HERE = Path(__file__).parent
LOOPBACK = ("127.0.0.1", "::1")
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
    secret: str,
    trusted_proxies: Iterable[str] = LOOPBACK,
    access_log: bool = False,
    metrics_allow: Iterable[str] = LOOPBACK,
) -> FastAPI:
    app = FastAPI(
        title=services.site_name,
        version=__version__,
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dp = AppState(
        services=services,
        secret=secret,
        templates=make_templates(),
        list_cache=ListCache(ttl_seconds=LIST_CACHE_SECONDS, max_bytes=LIST_CACHE_BYTES),
    )
    install_error_handlers(app)
    _document_statuses_sent(app)
    if services.request_limits is not None:
        # Innermost: a refused request still gets the security headers, request id and metrics.
        app.add_middleware(RateLimits, limits=services.request_limits)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.mount(docs.ASSETS_PATH, docs.docs_assets(), name="docs-assets")
    app.include_router(api.health_router)
    metrics.install(app, services, metrics_allow)
    app.include_router(community_api.router)
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(docs.router)
    app.include_router(account_pages.router)
    app.include_router(community_pages.router)
    app.include_router(moderation_pages.router)
    app.include_router(digest_pages.router)
    app.include_router(saved_search_pages.router)
    app.include_router(status_pages.router)
    app.include_router(pages.markdown_router)
    app.include_router(pages.router)
    # Added last, so outermost: every other middleware sees the forwarded client and scheme.
    app.add_middleware(RequestContext, trusted_proxies=trusted_proxies, access_log=access_log)
    return app


def create_app_from_environment() -> FastAPI:
    """The uvicorn factory: every worker process builds its own services from the environment."""
    settings = load_settings()
    services = build(settings)
    require_current_schema(services.db)
    return create_app(
        services,
        secret=secret_key(settings),
        trusted_proxies=settings.trusted_proxies,
        access_log=settings.access_log,
        metrics_allow=settings.metrics_allow,
    )
