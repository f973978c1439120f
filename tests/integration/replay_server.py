"""A local HTTP server replaying real arXiv captures, with scripted failures, for upstream tests.

It speaks HTTP/1.1 with keep-alive on loopback, records every request's arrival time and client
port on the server side, and answers from a queue of scripted replies first, then from a
responder function. Replies can be held until the test releases them, cut short mid-body, or be
any bytes at all (error documents, entity bombs).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import TEST_DATA

OAI_DATA = TEST_DATA / "arxiv-oai"
API_DATA = TEST_DATA / "arxiv-api"
RSS_DATA = TEST_DATA / "arxiv-rss"


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic() when the request line arrived
    path: str
    query: dict[str, str]
    client_port: int
    user_agent: str


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/xml; charset=utf-8"
    hold: threading.Event | None = None  # answer only once the test sets this
    cut_after: int | None = None  # announce the whole body, send this many bytes, hang up


Responder = Callable[[Seen], Reply]


class ReplayServer:
    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder or (lambda seen: Reply(404, b"not scripted"))
        self.seen: list[Seen] = []
        self._queue: list[Reply] = []
        self._lock = threading.Condition()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def push(self, *replies: Reply) -> None:
        """Answer the next requests with these, in order, before the responder takes over."""
        with self._lock:
            self._queue.extend(replies)

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> list[Seen]:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.seen) >= count, timeout):
                raise TimeoutError(f"only {len(self.seen)} of {count} requests arrived")
            return list(self.seen)

    def gaps(self) -> list[float]:
        times = sorted(s.at for s in self.seen)
        return [b - a for a, b in itertools.pairwise(times)]

    def _take(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            self._lock.notify_all()
            if self._queue:
                return self._queue.pop(0)
        return self.responder(seen)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            arrived = time.monotonic()
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            seen = Seen(
                arrived, parts.path, query, self.client_address[1], self.headers["User-Agent"]
            )
            reply = server._take(seen)
            if reply.hold is not None:
                reply.hold.wait(timeout=60)
            try:
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, reply: Reply) -> None:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if reply.cut_after is None:
                self.wfile.write(reply.body)
                return
            self.wfile.write(reply.body[: reply.cut_after])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def replay(responder: Responder | None = None) -> Iterator[ReplayServer]:
    with ReplayServer(responder) as server:
        yield server


# OAI-PMH pages built from the real captures.

_RECORD = re.compile(r"<record>.*?</record>", re.S)
OAI_CAPTURES = (
    "listrecords-arXiv-set-physics-hep-ex-from-2017-12-14-3-records.xml",
    "listrecords-arXiv-set-physics-hep-th-from-2017-12-14-3-records.xml",
    "listrecords-arXiv-oaipmh.arxiv.org-set-physics-plasm-ph-2026-01-05.xml",
)


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def capture_records(name: str) -> list[str]:
    return _RECORD.findall(read(OAI_DATA / name))


def envelope(name: str = OAI_CAPTURES[0]) -> tuple[str, str]:
    """The text of a capture before its first record and after its last one."""
    text = read(OAI_DATA / name)
    start, end = text.index("<record>"), text.rindex("</record>") + len("</record>")
    return text[:start], text[end:]


@dataclass(frozen=True)
class OaiList:
    """A multi-page ListRecords made by splitting real records across pages joined by tokens."""

    pages: list[bytes]
    tokens: list[str]  # tokens[i] asks for pages[i + 1]
    ids: list[list[str]]  # arXiv ids on each page

    @property
    def all_ids(self) -> list[str]:
        return [arxiv_id for page in self.ids for arxiv_id in page]

    def respond(self, seen: Seen) -> Reply:
        token = seen.query.get("resumptionToken")
        if token is None:
            return Reply(body=self.pages[0])
        if token in self.tokens:
            return Reply(body=self.pages[self.tokens.index(token) + 1])
        return Reply(body=oai_error("badResumptionToken", f"The value '{token}' is invalid."))

    def page_of(self, seen: Seen) -> int:
        token = seen.query.get("resumptionToken")
        return 0 if token is None else self.tokens.index(token) + 1


def oai_list(sizes: list[int], list_id: str = "6960524") -> OaiList:
    """Pages of the given sizes from the real records of the three ListRecords captures."""
    records = [r for name in OAI_CAPTURES for r in capture_records(name)]
    assert sum(sizes) <= len(records), "not enough real records for these pages"
    head, tail = envelope()
    total = sum(sizes)
    pages, tokens, ids, offset = [], [], [], 0
    for number, size in enumerate(sizes):
        chunk = records[offset : offset + size]
        offset += size
        # arXiv's classic token: "<list id>|<offset of the next record>"; empty on the last page.
        last = number == len(sizes) - 1
        token = "" if last else f"{list_id}|{offset + 1}"
        token_xml = f'<resumptionToken cursor="{offset - size}" completeListSize="{total}">'
        token_xml += f"{token}</resumptionToken>\n"
        pages.append((head + "\n".join(chunk) + "\n" + token_xml + tail.lstrip("\n")).encode())
        if not last:
            tokens.append(token)
        ids.append([re.search(r"<id>(.*?)</id>", r).group(1) for r in chunk])  # type: ignore[union-attr]
    return OaiList(pages, tokens, ids)


def recent_oai_list(sizes: list[int]) -> OaiList:
    """`oai_list`, the first-version dates moved to yesterday so the records count as new papers."""
    pages = oai_list(sizes)
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat().encode()
    moved = [
        re.sub(rb"<created>[0-9-]+</created>", b"<created>" + yesterday + b"</created>", p)
        for p in pages.pages
    ]
    return OaiList(moved, pages.tokens, pages.ids)


def oai_error(code: str, message: str) -> bytes:
    """An OAI-PMH error document in the real captures' envelope (arXiv's own were not captured)."""
    head, _ = envelope()
    prologue = head[: head.index("<ListRecords>")]
    return f'{prologue}<error code="{code}">{message}</error>\n</OAI-PMH>\n'.encode()


def billion_laughs(levels: int = 10) -> bytes:
    """The classic entity bomb: ~10^levels expansions of "lol" if a parser expanded entities."""
    lines = ['<?xml version="1.0"?>', "<!DOCTYPE lolz [", '  <!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * 10
        lines.append(f'  <!ENTITY lol{level} "{refs}">')
    lines.append("]>")
    lines.append(
        f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&lol{levels - 1};</OAI-PMH>'
    )
    return "\n".join(lines).encode()
