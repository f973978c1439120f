"""A real uvicorn server on a loopback port, in a background thread, over a store with the
bundled sample imported plus a few hostile and old-style records (see EXTRA_RECORDS).
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from dailypapers.config import Settings
from dailypapers.ingest.importer import import_file
from dailypapers.services import Services, build
from dailypapers.store.migrate import upgrade
from dailypapers.web.app import create_app

REPO = Path(__file__).resolve().parents[2]
SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
SAMPLE_ARXIV = REPO / "sample" / "arxiv.sample.jsonl.gz"
TEST_SECRET = "integration-test-secret-key-0123456789abcdef"

HOSTILE_ID = "2605.00001"
HOSTILE_TITLE = "<script>alert('pwned')</script> Attention & <b>Everything</b>"
OLD_STYLE_ID = "hep-th/9901001"
HOSTILE_DAY = "2026-05-04"
# Featured on a day of its own, before the sample's range, so the sample's days stay as shipped.
EXTRA_HF = [
    {
        "arxiv_id": HOSTILE_ID,
        "title": HOSTILE_TITLE,
        "abstract": '<img src=x onerror="alert(1)"> An abstract with </textarea> and {braces}.',
        "authors": ["Zoë Ünïcode-Author", "Bob <i>Italic</i>"],
        "published": "2026-05-01",
        "daily_date": HOSTILE_DAY,
        "upvotes": 7,
        "num_comments": 2,
        "github": "https://github.com/example/evil",
        "submitter": "mallory",
    },
    {
        "arxiv_id": OLD_STYLE_ID,
        "title": "Old-Style Identifiers Still Work",
        "abstract": "A paper with an archive/number identifier.",
        "authors": ["Ann Oldtimer"],
        "published": "1999-01-04",
        "daily_date": HOSTILE_DAY,
        "upvotes": 1,
        "num_comments": 0,
    },
]
# A Kaggle-format record: version history, with the latest version withdrawn.
EXTRA_KAGGLE = [
    {
        "id": OLD_STYLE_ID,
        "title": "Old-Style Identifiers Still Work",
        "abstract": "A paper with an archive/number identifier.",
        "authors": "Ann Oldtimer",
        "categories": "hep-th",
        "comments": "This paper has been withdrawn by the author",
        "versions": [
            {"version": "v1", "created": "Mon, 4 Jan 1999 10:00:00 GMT"},
            {"version": "v2", "created": "Tue, 2 Feb 1999 10:00:00 GMT"},
        ],
    }
]


@dataclass
class LiveServer:
    url: str
    services: Services

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


def sample_hf() -> list[dict[str, Any]]:
    """The bundled HF sample's records, as imported (one per arXiv id)."""
    with gzip.open(SAMPLE_HF, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return path


def populate(services: Services, tmp: Path) -> None:
    upgrade(services.db)
    for path in (
        SAMPLE_HF,
        SAMPLE_ARXIV,
        _write_jsonl(tmp / "extra_hf.jsonl.gz", EXTRA_HF),
        _write_jsonl(tmp / "extra_kaggle.jsonl.gz", EXTRA_KAGGLE),
    ):
        report = import_file(services.db, path, parse_in_subprocess=False)
        assert report.counts.rejects == 0, f"{path} had rejects"


def build_services(data_dir: Path, database_url: str | None = None, **more: Any) -> Services:
    """Services over `data_dir`; `more` sets other settings (e.g. smtp_url, arxiv_api_url).

    The per-address API and search limits are out of reach unless a test sets them: every test
    client is 127.0.0.1 (the store-kept sign-in, comment and subscription limits stay as set).
    """
    more.setdefault("api_rate_limit_per_minute", 1_000_000)
    more.setdefault("search_rate_limit_per_minute", 1_000_000)
    more.setdefault("secret_key", TEST_SECRET)
    more.setdefault("base_url", "http://testserver.invalid")
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        environment="development",
        log_level="WARNING",
        **more,
    )
    return build(settings)


def free_port() -> int:
    """A loopback port free now, for a server whose base_url must name it before it starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(services: Services, app: FastAPI | None = None, port: int = 0) -> Iterator[LiveServer]:
    """Run the app with uvicorn on 127.0.0.1 (`port`, or a free one) until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app or create_app(services),
        log_level="warning",
        lifespan="off",
        access_log=False,
        # As `dailypapers serve`: the app's RequestContext decides whose forwarded headers count.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", services=services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
