"""Reading request bodies: URL-encoded forms and small JSON documents, with a size cap, so a huge
or malformed body is a 400 or 413 and never a 500 (no multipart: no form here uploads files).
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from dailypapers.errors import InvalidRequest

# The longest form is a comment (10,000 characters, up to 4 bytes each when escaped thrice).
MAX_BODY_BYTES = 128 * 1024
MAX_FIELDS = 40
_FORM = "application/x-www-form-urlencoded"


async def read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise HTTPException(413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise HTTPException(
                413, f"the request body is larger than {MAX_BODY_BYTES // 1024} KiB"
            )
    return bytes(body)


async def read_form(request: Request) -> dict[str, str]:
    """The URL-encoded form fields (the last value wins when a name repeats)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await read_body(request)
    if media_type != _FORM and body:
        raise InvalidRequest("send the form as application/x-www-form-urlencoded")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("the form could not be read") from exc
    if any("\x00" in key or "\x00" in value for key, value in pairs):
        raise InvalidRequest("the form contains a NUL character")
    return dict(pairs)


async def read_json(request: Request) -> dict[str, Any]:
    """A JSON object body (empty body: {}); URL-encoded forms are accepted too."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == _FORM:
        return dict(await read_form(request))
    body = await read_body(request)
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: nesting deeper than the interpreter's stack, e.g. "[" * 50_000.
        raise InvalidRequest("the body is not valid JSON, or is nested too deeply") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object")
    return data


def row_id(raw: str) -> int | None:
    """A form field naming a row, or None: ASCII digits only ("²".isdigit() is true) and within
    a signed 64-bit integer, which the drivers refuse to bind (OverflowError, a 500)."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value < 2**63 else None


Form = Annotated[dict[str, str], Depends(read_form)]
JsonBody = Annotated[dict[str, Any], Depends(read_json)]
