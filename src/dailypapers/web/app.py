"""create_app: the FastAPI application and its route table."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from dailypapers import __version__
from dailypapers.config import load_settings
from dailypapers.services import Services, build, require_current_schema, secret_key
from dailypapers.web import pages
from dailypapers.web.deps import AppState

_HERE = Path(__file__).parent


def create_app(services: Services, *, secret: str) -> FastAPI:
    app = FastAPI(
        title=services.site_name,
        version=__version__,
        docs_url=None,
        redoc_url=None,
    )
    app.state.dp = AppState(services=services, secret=secret)
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    app.include_router(pages.router)
    return app


def create_app_from_environment() -> FastAPI:
    """The uvicorn factory: every worker process builds its own services from the environment."""
    settings = load_settings()
    services = build(settings)
    require_current_schema(services.db)
    return create_app(services, secret=secret_key(settings))
