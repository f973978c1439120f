"""The one error mapper: service errors and HTTP errors become an HTML page or, under /api/,
JSON {"error": {"code", "message"}}. A 500 says nothing about what went wrong inside.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from dailypapers.errors import InvalidRequest, NotFound
from dailypapers.web.deps import AppState

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 500: "internal_error"}
# Message for a 500: the same whatever failed, so nothing about the inside leaks.
_INTERNAL = "Something went wrong on our side. It has been logged; please try again later."


def error_response(request: Request, status: int, message: str) -> Response:
    code = _CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_"))
    headers = {"Cache-Control": "no-store"}
    if request.url.path.startswith("/api/") or _wants_json(request):
        body = {"error": {"code": code, "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    state: AppState = request.app.state.dp
    html = state.templates.get_template("error.html").render(
        site_name=state.services.site_name,
        query="",
        nav="",
        feeds=[],
        status=status,
        title=HTTPStatus(status).phrase,
        message=message,
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(request, 404, str(exc))


async def _invalid(request: Request, exc: Exception) -> Response:
    return error_response(request, 400, str(exc))


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
    return response


async def _internal(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(request, 500, _INTERNAL)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidRequest, _invalid)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)
