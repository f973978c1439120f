"""Security headers on every response: a strict Content-Security-Policy and its friends.

SecurityHeaders adds them to whatever the app answers, except a header the response sets itself
(the token pages' "Referrer-Policy: no-referrer": a second, laxer one would win). A 500 is the
one response that does not pass through the middleware (Starlette's ServerErrorMiddleware sends
it from outside every middleware), so the error mapper adds SECURITY_HEADERS to it itself
(web/errors.py).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything is served from this origin: no CDN, no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The email as sent, shown in the browser (/digest/view): mail clients need inline style
# attributes, so that page allows them; scripts stay as locked down as everywhere else.
EMAIL_VIEW_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]


class SecurityHeaders:
    """Adds the CSP and friends to every response (a plain ASGI middleware: no extra task)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                message["headers"] = [
                    *headers,
                    *(header for header in SECURITY_HEADERS if header[0] not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
