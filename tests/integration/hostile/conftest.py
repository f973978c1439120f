"""One hostile-input rig for the session: the app on uvicorn over a small SQLite store holding
papers whose every text field is an attack, an SMTP sink and the arXiv replay; a signed-in reader
and an admin who post hostile comments and forms.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dailypapers.community.accounts import grant_admin
from dailypapers.ingest.importer import import_file
from dailypapers.store.migrate import upgrade
from dailypapers.store.schema import comments
from tests.integration.community.support import (
    Community,
    community_settings,
    csrf_of,
    new_email,
    respond,
)
from tests.integration.hostile.corpus import XSS
from tests.integration.replay_server import ReplayServer
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import build_services, serve

HOSTILE_DAY = "2026-05-06"
XSS_ID = "2605.09001"
XSS_ARXIV_ID = "2605.09002"
XSS_AUTHOR = XSS[2]
XSS_COMMENT = "Nice paper " + XSS[0] + " [x](javascript:alert(9)) " + XSS[1]
HOSTILE_RECORDS: list[dict[str, Any]] = [
    {
        "arxiv_id": XSS_ID,
        "title": XSS[0] + " Attention " + XSS[3],
        "abstract": XSS[1] + " and " + XSS[3] + " and " + XSS[7],
        "authors": [XSS_AUTHOR, "Bob <i>Italic</i>", XSS[5]],
        "published": "2026-05-01",
        "daily_date": HOSTILE_DAY,
        "upvotes": 70,
        "num_comments": 2,
        "github": "javascript:alert(1)",
        "project_page": "https://example.org/\"><script>alert('pp')</script>",
        "submitter": XSS[0],
    },
    {
        "arxiv_id": XSS_ARXIV_ID,
        "title": "Comments " + XSS[1],
        "abstract": XSS[4] + " " + XSS[6],
        "authors": [XSS[0]],
        "published": "2026-05-02",
        "categories": ["cs.LG"],
        "comment": XSS[3] + " 12 pages",
        "journal_ref": XSS[1],
        "doi": XSS[2],
    },
    {
        "arxiv_id": XSS_ARXIV_ID,
        "title": "Comments " + XSS[1],
        "abstract": XSS[4] + " " + XSS[6],
        "authors": [XSS[0]],
        "published": "2026-05-02",
        "daily_date": HOSTILE_DAY,
        "upvotes": 60,
        "num_comments": 0,
    },
]


@dataclass
class HostileRig:
    community: Community
    reader: httpx.Client
    admin: httpx.Client
    api: httpx.Client  # the reader's bearer token
    victim_comment: int  # a comment of the reader's that attacks may edit
    tmp: Path

    @property
    def server(self):  # type: ignore[no-untyped-def]
        return self.community.server

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.community.server.services.db

    def anonymous(self, **headers: str) -> httpx.Client:
        return self.community.client(**headers)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")
    return path


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileRig]:
    tmp = tmp_path_factory.mktemp("hostile")
    with SmtpSink() as sink, ReplayServer(respond) as arxiv:
        services = build_services(
            tmp / "data",
            **community_settings(sink, arxiv),
            digest_subscribe_rate_limit_per_hour=100_000,
            digest_subscribe_rate_limit_per_hour_per_ip=100_000,
        )
        try:
            upgrade(services.db)
            for number, record in enumerate(HOSTILE_RECORDS):
                path = write_jsonl(tmp / f"hostile-{number}.jsonl.gz", [record])
                report = import_file(services.db, path, parse_in_subprocess=False)
                assert report.counts.rejects == 0, record
            with serve(services) as server:
                community = Community(server, sink, arxiv)
                reader = community.sign_in(new_email("reader"))
                admin_email = new_email("admin")
                grant_admin(services.db, admin_email, now=datetime.now(UTC))
                admin = community.sign_in(admin_email)
                for body in (XSS_COMMENT, "a comment the attacks may edit"):
                    posted = reader.post(
                        f"/papers/{XSS_ID}/comments",
                        data={"csrf": csrf_of(reader, f"/papers/{XSS_ID}"), "body": body},
                    )
                    assert posted.status_code in (200, 303), posted.text
                with services.db.read() as conn:
                    victim = conn.execute(select(func.max(comments.c.id))).scalar_one()
                made = reader.post("/account/tokens", data={"csrf": csrf_of(reader), "name": "x"})
                token = re.search(r'<code id="new-token">(dp_[^<]+)</code>', made.text)
                assert token is not None, made.text
                api = community.client(Authorization=f"Bearer {token.group(1)}")
                yield HostileRig(community, reader, admin, api, int(victim), tmp)
                community.close_clients()
        finally:
            services.close()
