"""Log formats, request ids and redaction (dailypapers.logs), and the request middleware's
forwarded-header rules (web/middleware/request_context.py) driven as a real ASGI app."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from dailypapers.logs import (
    REQUEST_ID,
    JsonFormatter,
    OwnInfoOnly,
    TextFormatter,
    configure_logging,
    loggable_path,
    redact_query,
)
from dailypapers.web.middleware.metrics import Networks
from dailypapers.web.middleware.request_context import RequestContext


def record(message: str = "hello %s", *args: object, **extra: Any) -> logging.LogRecord:
    made = logging.LogRecord("dailypapers.test", logging.INFO, __file__, 1, message, args, None)
    made.__dict__.update(extra)
    return made


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("token=abc.def", "token=[redacted]"),
        ("q=graph+neural&token=s3cret&p=2", "q=graph%20neural&token=[redacted]&p=2"),
        ("api_key=1&signature=2&code=3", "api_key=[redacted]&signature=[redacted]&code=[redacted]"),
        ("", ""),
    ],
)
def test_token_like_values_are_redacted(query: str, shown: str) -> None:
    assert redact_query(query) == shown
    assert "s3cret" not in loggable_path("/signin/confirm", query)


def test_a_path_without_query_is_shown_as_it_is() -> None:
    assert loggable_path("/papers/2401.00001", "") == "/papers/2401.00001"


def test_json_records_carry_the_request_id_and_extras() -> None:
    token = REQUEST_ID.set("rid-123456")
    try:
        line = JsonFormatter().format(record("hello %s", "world", status=200, route="/x"))
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(line)
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "rid-123456"
    assert entry["status"] == 200 and entry["route"] == "/x"
    assert entry["level"] == "INFO" and entry["logger"] == "dailypapers.test"
    assert "request_id" not in json.loads(JsonFormatter().format(record()))


def test_json_records_carry_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        made = record()
        made.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(made))
    assert "ValueError: boom" in entry["exception"]


def test_text_records_end_with_the_request_id() -> None:
    token = REQUEST_ID.set("rid-abcdefgh")
    try:
        assert TextFormatter().format(record("hi")) == "INFO dailypapers.test: hi [rid-abcdefgh]"
    finally:
        REQUEST_ID.reset(token)
    assert TextFormatter().format(record("hi")) == "INFO dailypapers.test: hi"


def test_configure_logging_leaves_a_foreign_set_up_alone() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    foreign = logging.NullHandler()
    root.addHandler(foreign)
    try:
        configure_logging("INFO", "json")
        assert [h for h in root.handlers if h.get_name() == "dailypapers"] == []
    finally:
        root.removeHandler(foreign)
    assert root.handlers == before


def test_networks() -> None:
    trusted = Networks(["127.0.0.1", "10.0.0.0/8", "::1"])
    assert "127.0.0.1" in trusted and "10.1.2.3" in trusted and "::1" in trusted
    assert "127.0.0.2" not in trusted and "testclient" not in trusted and None not in trusted
    assert "8.8.8.8" in Networks(["*"])
    assert "127.0.0.1" not in Networks([])


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = json.dumps(
        {"client": scope["client"][0], "scheme": scope["scheme"], "rid": REQUEST_ID.get()}
    ).encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


def call(peer: str, headers: dict[str, str], trusted: list[str]) -> tuple[dict[str, Any], str]:
    app = RequestContext(_echo, trusted_proxies=trusted)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "query_string": b"",
        "scheme": "http",
        "client": (peer, 1234),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start, body = sent
    header = dict(start["headers"])[b"x-request-id"].decode()
    return json.loads(body["body"]), header


FORWARDED = {
    "X-Forwarded-For": "6.6.6.6, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Request-ID": "0123456789abcdef",
}


def test_a_trusted_proxy_names_the_client_scheme_and_request_id() -> None:
    seen, header = call("127.0.0.1", FORWARDED, ["127.0.0.1"])
    # The nearest untrusted hop is the client; what it claimed before that is ignored.
    assert seen == {"client": "203.0.113.7", "scheme": "https", "rid": "0123456789abcdef"}
    assert header == "0123456789abcdef"


def test_trusted_hops_are_skipped() -> None:
    seen, _ = call(
        "127.0.0.1", {"X-Forwarded-For": "198.51.100.1, 10.0.0.5"}, ["127.0.0.1", "10.0.0.0/8"]
    )
    assert seen["client"] == "198.51.100.1"


def test_anyone_else_keeps_its_own_address() -> None:
    seen, header = call("192.0.2.50", FORWARDED, ["127.0.0.1"])
    assert seen["client"] == "192.0.2.50" and seen["scheme"] == "http"
    assert header != "0123456789abcdef" and seen["rid"] == header


def test_an_insane_request_id_is_replaced() -> None:
    seen, header = call("127.0.0.1", {"X-Request-ID": "bad id\twith spaces"}, ["127.0.0.1"])
    assert seen["rid"] == header
    assert header != "bad id\twith spaces" and len(header) == 32


def test_other_libraries_info_records_are_left_out_unless_debugging() -> None:
    """#18: onnxruntime's quantiser writes hundreds of INFO lines to the root logger."""

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, "message", None, None)

    quiet = OwnInfoOnly(logging.INFO)
    assert quiet.filter(record("dailypapers.search.onnx_build", logging.INFO))
    assert quiet.filter(record("uvicorn.error", logging.INFO))
    assert not quiet.filter(record("root", logging.INFO))
    assert not quiet.filter(record("onnxruntime.quantization", logging.INFO))
    assert quiet.filter(record("onnxruntime.quantization", logging.WARNING))
    assert OwnInfoOnly(logging.DEBUG).filter(record("root", logging.INFO))
