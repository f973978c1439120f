"""The Mailer: SMTP with connection reuse, or an outbox maildir for the demo and local use.

The only module that speaks SMTP (smtplib). Callers build an `OutgoingMail`; `render_message`
turns it into an RFC 5322 message whose headers refuse CR/LF, so no caller can inject headers.
"""

from __future__ import annotations

import contextlib
import logging
import mailbox
import smtplib
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from dailypapers.errors import ConfigurationError, InvalidRequest, SourceUnavailable

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Extra headers (e.g. List-Unsubscribe for digests); values must be single lines.
    headers: tuple[tuple[str, str], ...] = field(default=())


class Mailer(Protocol):
    """Sends messages; raises SourceUnavailable when the server refuses or cannot be reached."""

    def send(self, mail: OutgoingMail) -> str:
        """Send one message and return its Message-ID."""
        ...

    def close(self) -> None: ...


def render_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    try:
        message["From"] = sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        for name, value in mail.headers:
            message[name] = value
    except ValueError as exc:  # CR/LF or another bad header value
        raise InvalidRequest(f"refused a mail header: {exc}") from exc
    message["Date"] = format_datetime(datetime.now(UTC))
    if message["Message-ID"] is None:  # digests bring a deterministic one (a resend is a dup)
        message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def _address(sender: str) -> str:
    return sender.rpartition("<")[2].rstrip(">").strip()


def _domain(sender: str) -> str:
    try:
        return Address(addr_spec=sender.rpartition("<")[2].rstrip(">")).domain or "localhost"
    except (ValueError, IndexError):
        return "localhost"


class OutboxMailer:
    """Writes each message into a maildir (DATA_DIR/outbox): `make demo` needs no mail server."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        self._lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> str:
        message = render_message(mail, self.sender)
        with self._lock:
            box = mailbox.Maildir(self.directory, create=True)
            box.add(message)
        log.info("wrote mail to %s into the outbox %s", mail.to, self.directory)
        return str(message["Message-ID"])

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class DkimKey:
    """A DKIM signing key; the TXT record `<selector>._domainkey.<domain>` holds its public half."""

    selector: str
    domain: str
    private_key: bytes  # PEM, RSA or Ed25519


# The headers a DKIM signature covers (those present in the message).
DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)


def dkim_sign(message: EmailMessage, key: DkimKey) -> bytes:
    """The message as SMTP bytes with a DKIM-Signature header in front (dkimpy, relaxed)."""
    import dkim  # only mailers with a key pay for the import

    data = message.as_bytes(policy=SMTP)
    present = [h for h in DKIM_HEADERS if message.get(h.decode()) is not None]
    signature = dkim.sign(
        data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=present,
    )
    return bytes(signature) + data


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:587?starttls=true` or `smtps://user:pass@host:465`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigurationError("smtp_url must look like smtp://user:pass@host:587?starttls=true")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[-1].lower() in ("1", "true", "yes")
    implicit = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587 if starttls else 25),
        implicit_tls=implicit,
        starttls=starttls and not implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpMailer:
    """One SMTP connection per process, opened on first use and reused while the server keeps it.

    A dropped connection is reopened once per message; sends are serialised by a lock, since the
    web's threadpool may send from several threads.
    """

    def __init__(
        self,
        url: str,
        sender: str,
        *,
        timeout_seconds: float = SMTP_TIMEOUT_SECONDS,
        dkim: DkimKey | None = None,
    ):
        self.target = parse_smtp_url(url)
        self.sender = sender
        self.dkim = dkim
        self.timeout_seconds = timeout_seconds
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        context = ssl.create_default_context()
        connection: smtplib.SMTP
        if t.implicit_tls:
            connection = smtplib.SMTP_SSL(
                t.host, t.port, timeout=self.timeout_seconds, context=context
            )
        else:
            connection = smtplib.SMTP(t.host, t.port, timeout=self.timeout_seconds)
            if t.starttls:
                connection.starttls(context=context)
        if t.username:
            connection.login(t.username, t.password or "")
        return connection

    def send(self, mail: OutgoingMail) -> str:
        message = render_message(mail, self.sender)
        signed = dkim_sign(message, self.dkim) if self.dkim is not None else None
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._connection is None:
                        self._connection = self._connect()
                    if signed is None:
                        self._connection.send_message(message)
                    else:
                        self._connection.sendmail(_address(self.sender), [mail.to], signed)
                    return str(message["Message-ID"])
                except smtplib.SMTPRecipientsRefused as exc:
                    raise InvalidRequest(f"the mail server refused {mail.to}") from exc
                except smtplib.SMTPServerDisconnected as exc:
                    self._drop()
                    if attempt == 2:
                        raise SourceUnavailable(f"cannot reach the mail server: {exc}") from exc
                except smtplib.SMTPException as exc:  # a refusal: retrying would not help
                    self._drop()
                    raise SourceUnavailable(f"the mail server refused the message: {exc}") from exc
                except OSError as exc:  # refused connection, reset, timeout
                    self._drop()
                    if attempt == 2:
                        raise SourceUnavailable(f"cannot reach the mail server: {exc}") from exc
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
            self._connection = None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(smtplib.SMTPException, OSError):
                    self._connection.quit()
            self._drop()


def smtp_reply_code(exc: BaseException) -> int | None:
    """The SMTP reply code behind a Mailer error: 4xx temporary, 5xx permanent; None when there
    was no reply (a dropped or refused connection, a timeout: temporary too)."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in cause.recipients.values()]
        return min(codes) if codes else None
    if isinstance(cause, smtplib.SMTPResponseException):
        return int(cause.smtp_code)
    return None


def open_mailer(
    smtp_url: str, sender: str, outbox_dir: Path, dkim: DkimKey | None = None
) -> Mailer:
    """SMTP when a URL is set (DKIM-signed when a key is given), else the outbox maildir."""
    if smtp_url:
        return SmtpMailer(smtp_url, sender, dkim=dkim)
    return OutboxMailer(outbox_dir, sender)
