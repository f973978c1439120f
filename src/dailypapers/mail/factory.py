"""open_mailer: SMTP when the settings name a server, else the outbox maildir."""

from __future__ import annotations

from pathlib import Path

from dailypapers.mail.dkim import DkimKey
from dailypapers.mail.message import Mailer
from dailypapers.mail.outbox import OutboxMailer
from dailypapers.mail.smtp import SmtpMailer


def open_mailer(
    smtp_url: str, sender: str, outbox_dir: Path, dkim: DkimKey | None = None
) -> Mailer:
    """SMTP when a URL is set (DKIM-signed when a key is given), else the outbox maildir."""
    if smtp_url:
        return SmtpMailer(smtp_url, sender, dkim=dkim)
    return OutboxMailer(outbox_dir, sender)
