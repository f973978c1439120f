"""Mail: messages as bytes (message.py), DKIM (dkim.py), SMTP (smtp.py) and the demo's outbox
(outbox.py); `open_mailer` (factory.py) picks SMTP or the outbox.
"""

from __future__ import annotations

from dailypapers.mail.dkim import DkimKey
from dailypapers.mail.factory import open_mailer
from dailypapers.mail.message import (
    FOLD_COLUMNS,
    MAX_LINE_OCTETS,
    Mailer,
    OutgoingMail,
    RenderedMessage,
    message_bytes,
)
from dailypapers.mail.outbox import OutboxMailer
from dailypapers.mail.smtp import SmtpMailer, SmtpTarget, parse_smtp_url, smtp_reply_code

__all__ = [
    "FOLD_COLUMNS",
    "MAX_LINE_OCTETS",
    "DkimKey",
    "Mailer",
    "OutboxMailer",
    "OutgoingMail",
    "RenderedMessage",
    "SmtpMailer",
    "SmtpTarget",
    "message_bytes",
    "open_mailer",
    "parse_smtp_url",
    "smtp_reply_code",
]
