"""HTTP caching for every GET: a weak ETag from the body, Cache-Control, Last-Modified, and 304s.

The ETag is weak because GZipMiddleware may re-encode the body; it still validates the content.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request, Response

# Lists change when an import or a vote lands: a minute of staleness is fine for readers.
LIST_MAX_AGE_SECONDS = 60
# A paper page changes rarely (a new version, a vote).
PAPER_MAX_AGE_SECONDS = 300
FEED_MAX_AGE_SECONDS = 600


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def cached(
    request: Request,
    body: bytes | str,
    media_type: str,
    *,
    max_age: int,
    last_modified: datetime | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A 200 with validators, or a bodiless 304 when the client's copy is current."""
    data = body.encode() if isinstance(body, str) else body
    etag = etag_for(data)
    out = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", **(headers or {})}
    if last_modified is not None:
        out["Last-Modified"] = format_datetime(last_modified.replace(microsecond=0), usegmt=True)
    if _not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=out)
    return Response(content=data, media_type=media_type, headers=out)


def _not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        # Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x" and W/"x".
        wanted = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in wanted or etag.removeprefix("W/") in wanted
    since = request.headers.get("if-modified-since")
    if since is None or last_modified is None:
        return False
    try:
        since_at = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if since_at.tzinfo is None:
        return False
    return last_modified.replace(microsecond=0) <= since_at
