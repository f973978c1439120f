"""/docs: Swagger UI from files served here (fastapi-offline's copy), never from a CDN.

The page loads its init script from /static, so a strict CSP (script-src 'self') holds.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dailypapers.web.deps import State, render_html

SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_PATH = "/docs-assets"


def docs_assets() -> StaticFiles:
    return StaticFiles(directory=SWAGGER_ASSETS)


def docs_page(request: Request, state: State) -> Response:
    return HTMLResponse(render_html(state, "docs.html", assets=ASSETS_PATH, nav="docs"))
