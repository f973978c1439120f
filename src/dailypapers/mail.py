"""The Mailer: SMTP with connection reuse, or an outbox maildir for the demo and local use.

The only module that speaks SMTP (smtplib). Callers build an `OutgoingMail`; `message_bytes`
turns it into RFC 5322 / MIME bytes whose headers refuse CR/LF, so no caller can inject headers.

The bytes are written directly rather than through `email.message.EmailMessage`, whose header
policy machinery cost more than everything else in a digest run: headers are ASCII, folded at
whitespace to 78 columns where the value allows (never inside a URL), non-ASCII text and display
names go out as RFC 2047 encoded words, and each body part is UTF-8 quoted-printable (binascii)
inside multipart/alternative with a boundary that quoted-printable text cannot contain.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import hashlib
import logging
import mailbox
import re
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
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

    def submit(self, mail: OutgoingMail) -> Callable[[], str]:
        """Start sending; the returned function waits for the answer and returns the
        Message-ID (see SmtpMailer.submit). Call it before sending anything else."""
        ...

    def close(self) -> None: ...


# Header lines are folded to this many columns where whitespace allows (RFC 5322 2.1.1).
FOLD_COLUMNS = 78
# SMTP's limit on a line, CRLF excluded (RFC 5321 4.5.3.1.6).
MAX_LINE_OCTETS = 998
# Headers whose value is one or more addresses (a display name may need encoding).
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A message ready for SMTP: its bytes (CRLF line ends), Message-ID and header names."""

    data: bytes
    message_id: str
    header_names: tuple[str, ...]


def _refuse_breaks(name: str, value: str) -> None:
    if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
        raise InvalidRequest(f"refused a mail header: {name!r} holds a line break")


def _fold(name: str, value: str) -> str:
    """`Name: value` folded at spaces to FOLD_COLUMNS where possible (CRLF + space)."""
    line = f"{name}: {value}"
    if len(line) <= FOLD_COLUMNS:
        return line
    words = value.split(" ")
    lines, current = [], f"{name}:"
    for word in words:
        if not word:
            continue
        if len(current) + 1 + len(word) > FOLD_COLUMNS and current.strip() not in ("", f"{name}:"):
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    return "\r\n".join(lines)


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


@functools.lru_cache(maxsize=64)
def _address_value(value: str) -> str:
    if _PLAIN_ADDRESS.fullmatch(value):  # the common case: a bare ASCII address
        return value
    name, addr = parseaddr(value)
    if not addr or "@" not in addr:
        raise InvalidRequest(f"refused a mail address: {value!r}")
    try:
        return formataddr((name, addr), charset="utf-8")
    except UnicodeError as exc:  # a non-ASCII address (SMTPUTF8 is not spoken here)
        raise InvalidRequest(f"refused a non-ASCII mail address: {value!r}") from exc


def envelope_address(value: str) -> str:
    """The bare address of a To value, for SMTP's RCPT TO."""
    return value if _PLAIN_ADDRESS.fullmatch(value) else parseaddr(value)[1]


def header_line(name: str, value: str) -> str:
    """One RFC 5322 header field, folded, non-ASCII text as RFC 2047 encoded words."""
    _refuse_breaks(name, value)
    if name.lower() in _ADDRESS_HEADERS:
        value = _address_value(value)
    elif not value.isascii():
        encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
        return f"{name}: {encoded}"
    return _fold(name, value)


def _html_body(html: str) -> tuple[bytes, str]:
    """(body, transfer encoding) of an HTML part: 7bit when non-ASCII characters can become
    character references and every line fits SMTP's 998 octets, else quoted-printable."""
    ascii_html = html.encode("ascii", "xmlcharrefreplace")
    lines = ascii_html.replace(b"\r\n", b"\n").split(b"\n")
    if max(map(len, lines)) <= MAX_LINE_OCTETS:
        body = b"\r\n".join(lines)
        return (body if body.endswith(b"\r\n") else body + b"\r\n"), "7bit"
    return _qp(html), "quoted-printable"


def _qp(text: str) -> bytes:
    body = binascii.b2a_qp(text.encode("utf-8"), quotetabs=False, istext=True, header=False)
    body = body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return body if body.endswith(b"\r\n") else body + b"\r\n"


def _text_part_headers(subtype: str, encoding: str = "quoted-printable") -> bytes:
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n"
    ).encode("ascii")


def message_bytes(
    mail: OutgoingMail, sender: str, *, now: datetime | None = None
) -> RenderedMessage:
    """`mail` as SMTP-ready bytes: From, To, Subject, the caller's headers, Date, Message-ID (the
    caller's, else a fresh one), and a text/plain part, or multipart/alternative with HTML."""
    lines = [
        header_line("From", sender),
        header_line("To", mail.to),
        header_line("Subject", mail.subject),
    ]
    names = ["From", "To", "Subject"]
    message_id: str | None = None
    for name, value in mail.headers:
        lines.append(header_line(name, value))
        names.append(name)
        if name.lower() == "message-id":
            message_id = value
    lines.append(f"Date: {format_datetime(now or datetime.now(UTC))}")
    names.append("Date")
    if message_id is None:  # digests bring a deterministic one (a resend is a dup)
        message_id = make_msgid(domain=_domain(sender))
        lines.append(f"Message-ID: {message_id}")
        names.append("Message-ID")
    lines.append("MIME-Version: 1.0")
    if mail.html is None:
        head = "\r\n".join(lines).encode("ascii") + b"\r\n" + _text_part_headers("plain")
        return RenderedMessage(head + b"\r\n" + _qp(mail.text), message_id, tuple(names))
    # "=_" never occurs in quoted-printable output, so the boundary cannot occur in such a part.
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:24]
    boundary = f"=_dp_{digest}"
    text, (html, html_encoding) = _qp(mail.text), _html_body(mail.html)
    if boundary.encode("ascii") in html:
        html, html_encoding = _qp(mail.html), "quoted-printable"
    lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    marker = f"--{boundary}\r\n".encode("ascii")
    data = b"".join(
        (
            "\r\n".join(lines).encode("ascii"),
            b"\r\n\r\n",
            marker,
            _text_part_headers("plain"),
            b"\r\n",
            text,
            b"\r\n",  # the line break before a boundary belongs to the boundary
            marker,
            _text_part_headers("html", html_encoding),
            b"\r\n",
            html,
            b"\r\n",
            f"--{boundary}--\r\n".encode("ascii"),
        )
    )
    return RenderedMessage(data, message_id, tuple(names))


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

    def submit(self, mail: OutgoingMail) -> Callable[[], str]:
        message_id = self.send(mail)
        return lambda: message_id

    def send(self, mail: OutgoingMail) -> str:
        message = message_bytes(mail, self.sender)
        with self._lock:
            box = mailbox.Maildir(self.directory, create=True)
            box.add(message.data.replace(b"\r\n", b"\n"))  # files on disk end lines with LF
        log.info("wrote mail to %s into the outbox %s", mail.to, self.directory)
        return message.message_id

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


def dkim_sign(message: RenderedMessage, key: DkimKey) -> bytes:
    """The message's bytes with a DKIM-Signature header in front (dkimpy, relaxed/relaxed).

    dkimpy signs with RSA in pure Python: a 2048-bit signature costs several milliseconds of CPU,
    which bounds a DKIM-signed run's rate (docs/digests.md, "Performance")."""
    import dkim  # only mailers with a key pay for the import

    names = {n.lower().encode("ascii") for n in message.header_names}
    present = [h for h in DKIM_HEADERS if h in names]
    signature = dkim.sign(
        message.data,
        key.selector.encode(),
        key.domain.encode(),
        key.private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=present,
    )
    return bytes(signature) + message.data


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
        return self.submit(mail)()

    def submit(self, mail: OutgoingMail) -> Callable[[], str]:
        """Send `mail` up to its final dot and return a function that waits for the server's
        answer (the Message-ID, or SourceUnavailable / InvalidRequest as `send` raises).

        The connection is held until that function is called, which must happen before any
        other send: a caller may do other work (render the next message) in between, and
        decides what the answer means (the digest ledger is marked before the next message)."""
        message = message_bytes(mail, self.sender)
        data = dkim_sign(message, self.dkim) if self.dkim is not None else message.data
        recipient = envelope_address(mail.to)
        payload = _dot_stuffed(data)
        self._lock.acquire()
        try:
            self._transmit(recipient, payload)
        except BaseException:
            self._lock.release()
            raise
        return lambda: self._answer(mail.to, message.message_id)

    def _transmit(self, recipient: str, payload: bytes) -> None:
        """MAIL, RCPT, DATA (pipelined when the server offers PIPELINING), then the content."""
        for attempt in (1, 2):
            try:
                if self._connection is None:
                    self._connection = self._connect()
                _envelope(self._connection, _address(self.sender), recipient)
                self._connection.send(payload)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                raise InvalidRequest(f"the mail server refused {recipient}") from exc
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

    def _answer(self, to: str, message_id: str) -> str:
        """The server's answer to the content just sent; releases the connection."""
        try:
            assert self._connection is not None
            code, reply = self._connection.getreply()
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return message_id
        except smtplib.SMTPException as exc:  # refused, or dropped before answering
            self._drop()
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                raise SourceUnavailable(f"cannot reach the mail server: {exc}") from exc
            raise SourceUnavailable(f"the mail server refused the message to {to}: {exc}") from exc
        except OSError as exc:
            self._drop()
            raise SourceUnavailable(f"cannot reach the mail server: {exc}") from exc
        finally:
            self._lock.release()

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


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA content: a line starting with "." gets another, then CRLF "." CRLF."""
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    if stuffed.startswith(b"."):
        stuffed = b"." + stuffed
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def _envelope(connection: smtplib.SMTP, sender: str, recipient: str) -> None:
    """MAIL FROM, RCPT TO and DATA up to the server's 354, as one round trip when it offers
    PIPELINING (RFC 2920); the same exceptions as smtplib's sendmail on a refusal."""
    connection.ehlo_or_helo_if_needed()
    commands = [f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA"]
    replies: list[tuple[int, bytes]] = []
    if connection.has_extn("pipelining"):
        connection.send("".join(f"{c}\r\n" for c in commands))
        replies = [connection.getreply() for _ in commands]
    else:
        for command, wanted in zip(commands, (250, 250, 354), strict=True):
            connection.putcmd(command)
            replies.append(connection.getreply())
            if replies[-1][0] != wanted and not (wanted == 250 and replies[-1][0] == 251):
                break
    (mail_code, mail_reply), *rest = replies
    if mail_code != 250:
        _reset(connection, replies)
        raise smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
    rcpt_code, rcpt_reply = rest[0]
    if rcpt_code not in (250, 251):
        _reset(connection, replies)
        raise smtplib.SMTPRecipientsRefused({recipient: (rcpt_code, rcpt_reply)})
    data_code, data_reply = rest[1]
    if data_code != 354:
        _reset(connection, replies)
        raise smtplib.SMTPDataError(data_code, data_reply)


def _reset(connection: smtplib.SMTP, replies: list[tuple[int, bytes]]) -> None:
    if len(replies) == 3 and replies[2][0] == 354:  # DATA was taken after all: end it empty
        connection.send(b".\r\n")
        connection.getreply()
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        connection.rset()


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
