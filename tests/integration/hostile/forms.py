"""Find the routes and forms to attack: every route in the app's route table, and every POST form
the site's pages show (action, field names, the CSRF token), so a new route or field is attacked
without editing the tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route

from dailypapers.services import Services
from dailypapers.web.app import create_app

_PARAM = re.compile(r"\{([a-z_]+)(?::path)?\}")


@dataclass(frozen=True)
class RouteInfo:
    method: str
    path: str  # the template, e.g. /papers/{arxiv_id:path}/comments
    query: tuple[str, ...]  # the query parameters it declares

    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def fill(self, values: dict[str, str]) -> str:
        return _PARAM.sub(lambda m: values[m.group(1)], self.path)


def _walk(routes: list[BaseRoute]) -> Iterator[Route]:
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _walk(included.routes)
        elif isinstance(route, Route):
            yield route


def route_table(services: Services) -> list[RouteInfo]:
    """Every (method, path) the app serves, HEAD left out."""
    app = create_app(services)
    found = []
    for route in _walk(app.routes):
        query: tuple[str, ...] = ()
        if isinstance(route, APIRoute):
            query = tuple(p.alias for p in route.dependant.query_params)  # codespell:ignore
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append(RouteInfo(method, route.path, query))
    return found


@dataclass
class Form:
    action: str
    fields: dict[str, str] = field(default_factory=dict)  # name -> value shown


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self._open = Form(unescape(values.get("action", "")))
            self.forms.append(self._open)
        elif tag in ("input", "textarea", "select", "button") and self._open is not None:
            name = values.get("name")
            if name:
                self._open.fields.setdefault(name, values.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def post_forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms
