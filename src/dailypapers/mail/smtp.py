"""The SMTP mailer: one reused connection per process, pipelined envelopes, and the reply codes
behind a refusal. The only module that speaks SMTP (smtplib)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from dailypapers.errors import ConfigurationError, InvalidRequest, SourceUnavailable
from dailypapers.mail.dkim import DkimKey, dkim_sign
from dailypapers.mail.message import OutgoingMail, address_of, envelope_address, message_bytes

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 20.0


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
                _envelope(self._connection, address_of(self.sender), recipient)
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
