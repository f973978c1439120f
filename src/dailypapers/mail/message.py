"""Outgoing mail as bytes: `OutgoingMail`, the `Mailer` protocol, and `message_bytes`, which
turns a mail into RFC 5322 / MIME bytes whose headers refuse CR/LF, so no caller can inject headers.

The bytes are written directly rather than through `email.message.EmailMessage`, whose header
policy machinery cost more than everything else in a digest run: headers are ASCII, folded at
whitespace to 78 columns where the value allows (never inside a URL), non-ASCII text and display
names go out as RFC 2047 encoded words, and each body part is UTF-8 quoted-printable (binascii)
inside multipart/alternative with a boundary that quoted-printable text cannot contain.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import Address
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Protocol

from dailypapers.errors import InvalidRequest

log = logging.getLogger(__name__)


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


def address_of(sender: str) -> str:
    return sender.rpartition("<")[2].rstrip(">").strip()


def _domain(sender: str) -> str:
    try:
        return Address(addr_spec=sender.rpartition("<")[2].rstrip(">")).domain or "localhost"
    except (ValueError, IndexError):
        return "localhost"
