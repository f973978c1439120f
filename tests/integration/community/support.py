"""The community test rig: the app on uvicorn with a real SMTP sink and an arXiv replay server,
and a browser-less user who signs in by following the emailed link like a person would.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select

from dailypapers.store.schema import votes
from tests.integration.replay_server import API_DATA, ReplayServer, Reply, Seen
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import LiveServer

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
# Submissions the arXiv replay server answers with real captures (id_list -> capture).
CAPTURES = {
    "1707.08567": "query-id_list-1707.08567.atom",
    "astro-ph/0601001": "query-id_list-astro-ph-0601001-old-style-id.atom",
    "2104.12255": "query-id_list-2104.12255v1-versioned.atom",
    "0000.0000": "query-id_list-0000.0000-zero-results.atom",
}
# An id for which arXiv "is down": the replay answers 503 (the client does not retry in tests).
ARXIV_DOWN_ID = "2501.00503"


def respond(seen: Seen) -> Reply:
    atom = "application/atom+xml; charset=utf-8"
    id_list = seen.query.get("id_list", "")
    if id_list in CAPTURES:
        return Reply(body=(API_DATA / CAPTURES[id_list]).read_bytes(), content_type=atom)
    if id_list == ARXIV_DOWN_ID:
        return Reply(503, b"Service Unavailable", content_type="text/plain")
    return Reply(body=(API_DATA / CAPTURES["0000.0000"]).read_bytes(), content_type=atom)


def new_email(name: str = "reader") -> str:
    return f"{name}-{uuid.uuid4().hex[:10]}@example.org"


def csrf_in(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return unescape(found.group(1))


def link_path(url: str) -> str:
    """An emailed absolute link as a path on the live server (the mail names base_url)."""
    parts = urlsplit(url)
    return parts.path + "?" + parts.query


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


@dataclass
class Community:
    server: LiveServer
    sink: SmtpSink
    arxiv: ReplayServer
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def db(self):  # type: ignore[no-untyped-def]
        return self.server.services.db

    def client(self, **headers: str) -> httpx.Client:
        """A new browser-like client (own cookies); closed when the server fixture ends."""
        made = httpx.Client(base_url=self.server.url, timeout=30, headers=headers)
        self.clients.append(made)
        return made

    def close_clients(self) -> None:
        for client in self.clients:
            client.close()
        self.clients.clear()

    def request_link(self, client: httpx.Client, email: str, next_path: str = "/") -> str:
        """Ask for a sign-in link and return it, read from the mail the SMTP server received."""
        before = len(self.sink.to(email))
        csrf = csrf_in(client.get("/signin").text)
        sent = client.post("/signin", data={"email": email, "csrf": csrf, "next": next_path})
        assert sent.status_code == 200, sent.text
        mail = self.sink.wait_for(email, count=before + 1)
        [link] = [u for u in mail.links() if "/signin/confirm" in u]
        return link

    def follow_link(self, client: httpx.Client, link: str) -> httpx.Response:
        """Open the emailed link (GET shows a button) and press the button (POST)."""
        page = client.get(link_path(link))
        assert page.status_code == 200, page.text
        return client.post(
            "/signin/confirm", data={"token": token_of(link), "csrf": csrf_in(page.text)}
        )

    def sign_in(self, email: str | None = None, client: httpx.Client | None = None) -> httpx.Client:
        client = client or self.client()
        done = self.follow_link(client, self.request_link(client, email or new_email()))
        assert done.status_code == 303, done.text
        assert "dp_session" in client.cookies
        return client

    def local_votes(self, arxiv_id: str) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(select(func.count()).where(votes.c.arxiv_id == arxiv_id)).scalar_one()
            )


def csrf_of(client: httpx.Client, path: str = "/account") -> str:
    return csrf_in(client.get(path).text)


def community_settings(sink: SmtpSink, arxiv: ReplayServer) -> dict[str, object]:
    return {
        "smtp_url": sink.url,
        "mail_from": "Papers <noreply@example.org>",
        "arxiv_api_url": f"{arxiv.url}/api/query",
        "arxiv_min_interval_seconds": 0.01,
        "http_max_retries": 0,
        "http_timeout_seconds": 5.0,
        "submission_window_days": 0,
        "signin_rate_limit_per_hour_per_ip": 100_000,
        "comment_rate_limit_per_hour": 1_000,
        "submission_rate_limit_per_day": 1_000,
    }
