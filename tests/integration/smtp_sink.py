"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts, for tests that
read the mail the app sends: sign-in links now, digests later.
"""

from __future__ import annotations

import email
import re
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller

_LINK = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None, "the message has no text part"
        return str(body.get_content())

    def links(self) -> list[str]:
        return _LINK.findall(self.text)


class SmtpSink:
    """`with SmtpSink() as sink:` ... `sink.url` for the app, `sink.wait_for(address)`."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.connections = 0
        self._lock = threading.Condition()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
            self._lock.notify_all()
        return "250 Message accepted for delivery"

    async def handle_EHLO(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, address: str, *, count: int = 1, timeout: float = 10.0) -> Received:
        """The `count`-th message to `address` (1 = the first), waiting for it to arrive."""
        with self._lock:
            arrived = self._lock.wait_for(lambda: len(self.to(address)) >= count, timeout)
            if not arrived:
                raise TimeoutError(f"no message #{count} to {address} within {timeout} s")
            return self.to(address)[count - 1]

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
