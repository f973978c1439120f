"""The digest test rig: a sample store per test on each backend, an SMTP sink on loopback that
can answer 4xx/5xx or kill the sender, and helpers that subscribe like a person or a script.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dailypapers.digest.send import Sender
from dailypapers.services import Services
from dailypapers.store import subscribers as store
from tests.integration.smtp_sink import SmtpSink
from tests.integration.web_server import build_services

# Answers the sink gives: a function of how many DATA commands so far -> the reply line.
Answer = Callable[[int], str]


class ScriptedSink(SmtpSink):
    """An SmtpSink whose replies a test scripts; refused messages are not kept."""

    def __init__(self, answer: Answer | None = None) -> None:
        super().__init__()
        self.answer = answer
        self.data_commands = 0
        self.kill_after: tuple[int, int] | None = None  # (message number, pid)
        self.kill_before: tuple[int, int] | None = None  # (DATA command number, pid)
        self.raw: list[bytes] = []  # the accepted messages' bytes, as they came

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.data_commands += 1
        if self.kill_before is not None and self.data_commands == self.kill_before[0]:
            os.kill(self.kill_before[1], signal.SIGKILL)  # mid-send, before the server accepts
            self.kill_before = None
            return "421 4.3.0 closing"
        if self.answer is not None:
            reply = self.answer(self.data_commands)
            if not reply.startswith("250"):
                return reply
        result = await super().handle_DATA(server, session, envelope)
        self.raw.append(bytes(envelope.original_content))
        if self.kill_after is not None and len(self.messages) == self.kill_after[0]:
            os.kill(self.kill_after[1], signal.SIGKILL)  # the worst window: accepted, unrecorded
            self.kill_after = None
        return result


def make_services(tmp: Path, db_url: str, sink: SmtpSink, **more: Any) -> Services:
    settings: dict[str, Any] = {
        "smtp_url": sink.url,
        "digest_retry_base_seconds": 0.05,
        "digest_subscribe_rate_limit_per_hour": 100,
        "digest_subscribe_rate_limit_per_hour_per_ip": 1_000,
        **more,
    }
    # The store is a copy of a populated template (conftest.py): nothing to import here.
    return build_services(tmp / "data", database_url=db_url, **settings)


def add_confirmed(services: Services, email: str, frequency: str = "weekly", **prefs: Any) -> int:
    """A confirmed subscriber made directly in the store (the web flow has its own tests)."""
    from dailypapers.domain import DigestPreferences

    now = datetime.now(UTC)
    with services.db.write() as conn:
        sub = store.add_pending(conn, email, frequency, user_id=None, now=now)
        store.confirm(conn, sub.id, ip="192.0.2.1", now=now)
        if prefs:
            store.update_settings(
                conn, sub.id, frequency=frequency, prefs=DigestPreferences(**prefs)
            )
    return sub.id


def sender(services: Services, **hooks: Any) -> Sender:
    return services.digest_sender(**hooks)


def link(text: str, path: str) -> str:
    """The first link in `text` to `path`, as a path and query the test client can open."""
    for word in text.split():
        parts = urlsplit(word.strip("<>"))
        if parts.path == path:
            return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no link to {path} in the mail")


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def html_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return unescape(str(body.get_content()))
