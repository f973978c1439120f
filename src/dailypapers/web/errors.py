"""The one error mapper: service errors and HTTP errors become an HTML page, JSON
{"error": {"code", "message"}} under /api/, or plain text under /feeds/ (a feed reader shows
neither a page nor JSON). A refused emailed link gets its own page, with the way to a fresh one.
A 500 says nothing about what went wrong inside.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match, Route

from dailypapers.errors import (
    ConfigurationError,
    Conflict,
    DailyPapersError,
    InvalidRequest,
    NotFound,
    NotSignedIn,
    PermissionDenied,
    RateLimited,
    SourceUnavailable,
    StoreUnavailable,
)
from dailypapers.logs import REQUEST_ID
from dailypapers.tokens import InvalidToken
from dailypapers.web.deps import AppState
from dailypapers.web.link_pages import has_link_page, invalid_link_page
from dailypapers.web.middleware.request_context import REQUEST_ID_HEADER, SCOPE_KEY
from dailypapers.web.middleware.security import SECURITY_HEADERS
from dailypapers.web.viewer import referer_path, sign_in_first

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 500: "internal_error"}
# Message for a 503 from the store: the driver's words (host, port, file) stay in the log.
_STORE_DOWN = "The database is unavailable for a moment (restarting or busy); try again shortly."
# Message for a 500: the same whatever failed, so nothing about the inside leaks.
_INTERNAL = "Something went wrong on our side. It has been logged; please try again later."
_FEEDS = "/feeds/"
# Retry-After on a feed's 503 that names no time of its own (seconds): a feed reader that polls
# hourly would otherwise take the outage for its next hour.
FEED_RETRY_AFTER_SECONDS = 60


# The status each service error maps to; forms that re-render themselves use it too.
STATUS_BY_ERROR: tuple[tuple[type[DailyPapersError], int], ...] = (
    (NotFound, 404),
    (NotSignedIn, 401),
    (PermissionDenied, 403),
    (Conflict, 409),
    (RateLimited, 429),
    (SourceUnavailable, 503),
    (StoreUnavailable, 503),
    (InvalidRequest, 400),
    (ConfigurationError, 500),
)


def status_for(exc: DailyPapersError) -> int:
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(exc, kind)), 400)


def error_response(request: Request, status: int, message: str) -> Response:
    code = _CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    headers = {"Cache-Control": "no-store"}
    if request.url.path.startswith(_FEEDS):
        if status == 503:
            headers["Retry-After"] = str(FEED_RETRY_AFTER_SECONDS)
        return PlainTextResponse(message + "\n", status_code=status, headers=headers)
    if request.url.path.startswith("/api/") or _wants_json(request):
        body = {"error": {"code": code, "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    state: AppState = request.app.state.dp
    html = state.templates.get_template("error.html").render(
        site_name=state.services.site.name,
        search_words="",
        nav="",
        feeds=[],
        viewer=None,
        status=status,
        title=HTTPStatus(status).phrase,
        message=message,
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _domain_error(request: Request, exc: Exception) -> Response:
    """Every service error: its status from STATUS_BY_ERROR, its message (a 503 from the store and
    a 500 say nothing of the inside), and Retry-After where the error carries one."""
    assert isinstance(exc, DailyPapersError)
    if isinstance(exc, NotSignedIn) and not request.url.path.startswith("/api/"):
        return sign_in_first(
            request, request.url.path if request.method == "GET" else referer_path(request)
        )
    if (
        isinstance(exc, InvalidToken)
        and has_link_page(request.url.path)
        and not _wants_json(request)
    ):
        return invalid_link_page(request, exc)
    status = status_for(exc)
    if status >= 500:
        if status == 500:
            return await _internal(request, exc)
        what = "store" if isinstance(exc, StoreUnavailable) else "upstream"
        log.warning("%s unavailable on %s %s: %s", what, request.method, request.url.path, exc)
    message = _STORE_DOWN if isinstance(exc, StoreUnavailable) else str(exc)
    response = error_response(request, status, message)
    retry_after = getattr(exc, "retry_after_seconds", None)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "query")
        problems.append(f"{where}: {error.get('msg', 'invalid')}")
    return error_response(request, 400, "; ".join(problems) or "invalid request")


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        message = "There is no page at this address."
    elif exc.status_code >= 500:
        message = _INTERNAL
    else:
        message = str(exc.detail)
    response = error_response(request, exc.status_code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; one path can have several.
        response.headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return response


def _allowed_methods(request: Request) -> set[str]:
    """The methods of every route with the path template of the first route whose path matched
    (the one Starlette refused the method for)."""
    matched: list[Route] = []
    pending: list[BaseRoute] = list(reversed(request.app.routes))
    while pending:
        route = pending.pop()
        included = getattr(route, "original_router", None)
        if included is not None:
            pending.extend(reversed(included.routes))
        elif isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            matched.append(route)
    if not matched:
        return set()
    template = matched[0].path
    return {m for route in matched if route.path == template for m in route.methods or ()}


async def _internal(request: Request, exc: Exception) -> Response:
    # Sent by ServerErrorMiddleware, outside SecurityHeaders and RequestContext: it adds their
    # headers itself, and logs under the request's id so the reply points at the log record.
    request_id = request.scope.get(SCOPE_KEY)
    token = REQUEST_ID.set(request_id) if isinstance(request_id, str) else None
    try:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    finally:
        if token is not None:
            REQUEST_ID.reset(token)
    response = error_response(request, 500, _INTERNAL)
    for name, value in SECURITY_HEADERS:
        response.headers[name.decode()] = value.decode()
    if isinstance(request_id, str):
        response.headers[REQUEST_ID_HEADER.decode()] = request_id
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DailyPapersError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
