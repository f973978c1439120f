"""Logging set-up: readable text or one JSON object per line, each record tagged with the id of
the web request it belongs to.

The request id lives in a context variable that the web middleware sets for the length of a
request; Starlette copies the context into the thread that runs a synchronous endpoint, so
records logged from there carry it too. Nothing here imports the rest of dailypapers.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, quote

LogFormat = Literal["text", "json"]

# The id of the request being handled in this context; None outside a request.
REQUEST_ID: ContextVar[str | None] = ContextVar("dailypapers_request_id", default=None)

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# Query parameters whose values never reach a log: sign-in, opt-in, unsubscribe and feedback links
# carry their tokens in `token`; the rest are there in case a future link uses them.
SECRET_PARAMS = re.compile(r"token|key|secret|sig|signature|password|code|session", re.I)
REDACTED = "[redacted]"
# Attributes every LogRecord has; whatever else a record carries came in through `extra=`.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "taskName", "request_id"}
)
_OUR_HANDLER = "dailypapers"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, request_id, then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        for name, value in record.__dict__.items():
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The plain format, with ` [request_id]` appended to records logged inside a request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        return f"{text} [{request_id}]" if request_id else text


# Loggers whose INFO records are ours to show; below DEBUG, everyone else's must reach WARNING
# (onnxruntime's quantiser alone writes hundreds of INFO lines to the root logger).
OWN_LOGGERS = ("dailypapers", "uvicorn")


class OwnInfoOnly(logging.Filter):
    """Passes every record at WARNING and above, and below it only our own loggers' records,
    unless the handler's level is DEBUG (`-v`, DAILYPAPERS_LOG_LEVEL=DEBUG): then everything."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if self.level <= logging.DEBUG or record.levelno >= logging.WARNING:
            return True
        return record.name.split(".")[0] in OWN_LOGGERS


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Send records at `level` and above to stderr in `log_format`.

    Calling it again replaces its own handler. A root logger that something else configured
    already (a test runner, an embedding program) is left as it is.
    """
    # Alembic narrates every connection at INFO; its news is in what `migrate` prints.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _OUR_HANDLER]
    if root.handlers and not ours:
        return
    for handler in ours:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_OUR_HANDLER)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(OwnInfoOnly(logging.getLevelName(level)))
    root.addHandler(handler)
    root.setLevel(level)


def redact_query(query: str) -> str:
    """A query string with the values of token-like parameters replaced by [redacted]."""
    if not query:
        return ""
    parts = []
    for name, value in parse_qsl(query, keep_blank_values=True):
        shown = REDACTED if SECRET_PARAMS.search(name) else value
        parts.append(f"{quote(name, safe='')}={quote(shown, safe='[]')}")
    return "&".join(parts)


def loggable_path(path: str, query: str) -> str:
    """The request target as an access log may show it: the path and a redacted query."""
    shown = redact_query(query)
    return f"{path}?{shown}" if shown else path


def access_fields(fields: Mapping[str, Any]) -> str:
    """The text form of an access line: `METHOD path status duration_ms client route`."""
    return (
        f'{fields["client"]} "{fields["method"]} {fields["path"]}" {fields["status"]} '
        f"{fields['duration_ms']:.1f}ms route={fields['route']}"
    )
