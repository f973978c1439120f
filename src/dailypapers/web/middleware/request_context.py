"""The outermost middleware: who the client really is, the request id, metrics and access logs.

- Behind a reverse proxy the app sees the proxy's address. X-Forwarded-For and
  X-Forwarded-Proto are believed only from `trusted_proxies` (as uvicorn's proxy_headers does
  it), so `request.client.host` is the real client and `request.url.scheme` is https behind TLS
  termination, while a client talking to the app directly cannot claim another address. Such a
  proxy's X-Forwarded-Host is kept in the scope (FORWARDED_HOST_KEY) for /status to compare
  with base_url; nothing else reads it.
- Every request gets an id: the trusted proxy's X-Request-ID when it sends a sane one, else a
  fresh one. It is returned in the X-Request-ID response header and attached to every log
  record written while the request runs (dailypapers.logs.REQUEST_ID).
- Every request is counted and timed under its route template (/papers/{arxiv_id:path}, never
  the raw path) and, when access logging is on, logged once with its path's tokens redacted.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.logs import REQUEST_ID, access_fields, loggable_path
from dailypapers.web.middleware import metrics

_access = logging.getLogger("dailypapers.access")

REQUEST_ID_HEADER = b"x-request-id"
# Where the request id waits in the ASGI scope for a 500: Starlette's ServerErrorMiddleware sends
# that response outside this middleware, after REQUEST_ID has been reset.
SCOPE_KEY = "dailypapers.request_id"
# Where a trusted proxy's X-Forwarded-Host waits in the ASGI scope: the host people asked for.
FORWARDED_HOST_KEY = "dailypapers.forwarded_host"
# An incoming id is kept only if it looks like one: nginx's $request_id is 32 hex digits.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContext:
    def __init__(
        self, app: ASGIApp, *, trusted_proxies: Iterable[str], access_log: bool = False
    ) -> None:
        self.app = app
        self.trusted = metrics.Networks(trusted_proxies)
        self.access_log = access_log
        if access_log:
            # Access lines are INFO records; log_level=WARNING must not swallow them.
            _access.setLevel(logging.INFO)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        from_proxy = peer is not None and peer[0] in self.trusted
        request_id = None
        if from_proxy:
            request_id = self._believe_forwarded(scope)
        request_id = request_id or uuid.uuid4().hex
        scope[SCOPE_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            with metrics.in_progress():
                await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = _route_template(scope)
            metrics.observe_request(method, route, status, seconds)
            if self.access_log:
                self._log(scope, method, route, status, seconds)
            REQUEST_ID.reset(token)

    def _believe_forwarded(self, scope: Scope) -> str | None:
        """Take the client, scheme and request id a trusted proxy passed on; the request id."""
        proto, request_id, hops = None, None, []
        for name, value in scope["headers"]:
            if name == b"x-forwarded-proto":
                proto = value.decode("latin-1").strip().lower()
            elif name == b"x-forwarded-for":
                hops += [h.strip() for h in value.decode("latin-1").split(",")]
            elif name == REQUEST_ID_HEADER:
                text = value.decode("latin-1").strip()
                request_id = text if _SANE_REQUEST_ID.fullmatch(text) else None
            elif name == b"x-forwarded-host":
                # The first entry is the host the client asked the outermost proxy for.
                forwarded_host = value.decode("latin-1").split(",")[0].strip()
                if forwarded_host:
                    scope[FORWARDED_HOST_KEY] = forwarded_host
        if proto in ("http", "https"):
            scope["scheme"] = proto
        # The nearest hop that is not a trusted proxy is the client; earlier entries are
        # whatever the client claimed and are ignored.
        hops = [h for h in hops if h]
        client = next((h for h in reversed(hops) if h not in self.trusted), None)
        if client is None and hops:
            client = hops[0]
        if client is not None:
            scope["client"] = (client, 0)
        return request_id

    @staticmethod
    def _log(scope: Scope, method: str, route: str, status: int, seconds: float) -> None:
        client = scope.get("client")
        fields = {
            "method": method,
            "path": loggable_path(scope["path"], scope.get("query_string", b"").decode("latin-1")),
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "client": client[0] if client else None,
            "scheme": scope.get("scheme"),
        }
        _access.info(access_fields(fields), extra=fields)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else metrics.UNMATCHED
