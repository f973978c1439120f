"""The Mailer: an outbox maildir for the demo, SMTP with one reused connection, refused headers."""

from __future__ import annotations

import mailbox
import socket
from pathlib import Path

import pytest

from dailypapers.errors import ConfigurationError, InvalidRequest, SourceUnavailable
from dailypapers.mail import OutboxMailer, OutgoingMail, SmtpMailer, open_mailer, parse_smtp_url
from tests.integration.smtp_sink import SmtpSink

SENDER = "Papers <noreply@example.org>"


def test_the_outbox_writes_each_message_into_a_maildir(tmp_path: Path) -> None:
    mailer = open_mailer("", SENDER, tmp_path / "outbox")
    assert isinstance(mailer, OutboxMailer)
    message_id = mailer.send(OutgoingMail("a@example.org", "Hello", "Open https://x.example/"))
    [stored] = list(mailbox.Maildir(tmp_path / "outbox", create=False))
    assert stored["To"] == "a@example.org" and stored["Message-ID"] == message_id
    assert "https://x.example/" in stored.get_payload(decode=True).decode()


def test_smtp_reuses_one_connection_for_many_messages() -> None:
    with SmtpSink() as sink:
        mailer = SmtpMailer(sink.url, SENDER)
        for number in range(3):
            mailer.send(OutgoingMail(f"r{number}@example.org", "Hi", "text"))
        sink.wait_for("r2@example.org")
        assert sink.connections == 1
        assert sink.to("r0@example.org")[0].message["From"] == SENDER
        mailer.close()


def test_an_unreachable_server_is_source_unavailable_and_headers_cannot_be_injected() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", SENDER, timeout_seconds=2)
    with pytest.raises(SourceUnavailable):
        mailer.send(OutgoingMail("a@example.org", "Hi", "text"))
    with pytest.raises(InvalidRequest):
        mailer.send(OutgoingMail("a@example.org", "Hi\r\nBcc: everyone@example.org", "text"))


def test_smtp_urls_name_host_port_tls_and_credentials() -> None:
    plain = parse_smtp_url("smtp://user%40x:p%3Ass@mail.example:2525?starttls=true")
    assert (plain.host, plain.port, plain.starttls, plain.implicit_tls) == (
        "mail.example",
        2525,
        True,
        False,
    )
    assert (plain.username, plain.password) == ("user@x", "p:ss")
    tls = parse_smtp_url("smtps://mail.example")
    assert (tls.port, tls.implicit_tls, tls.starttls) == (465, True, False)
    with pytest.raises(ConfigurationError):
        parse_smtp_url("http://mail.example")
