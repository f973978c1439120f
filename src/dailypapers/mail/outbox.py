"""The outbox: a maildir (DATA_DIR/outbox) that takes every message, so `make demo` needs no
mail server."""

from __future__ import annotations

import logging
import mailbox
import threading
from collections.abc import Callable
from pathlib import Path

from dailypapers.mail.message import OutgoingMail, message_bytes

log = logging.getLogger(__name__)


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
