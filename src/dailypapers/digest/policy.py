"""The digests' knobs and names, as plain values handed down by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    site_name: str
    base_url: str
    mail_from: str
    top_n: int
    # "skip": a period with nothing new sends nothing (recorded as quiet); "note": a short note.
    quiet_mode: str
    confirm_hours: int
    subscribe_per_hour_per_ip: int
    subscribe_per_hour_per_address: int
    batch_size: int
    lease_seconds: float
    retry_base_seconds: float
    max_attempts: int
    # A run waits this long at most for retries or other workers' claims before it returns.
    max_wait_seconds: float
    bounce_threshold: int
    trending_half_life_hours: float
    trending_window_days: int

    @property
    def list_id(self) -> str:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
        return f"{self.site_name} digest <digest.{host}>"

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"

    @property
    def mail_domain(self) -> str:
        """The sender's domain (of mail_from): every Message-ID of ours ends with it."""
        return parseaddr(self.mail_from)[1].rpartition("@")[2] or self.domain

    @property
    def one_click(self) -> bool:
        """RFC 8058 one-click unsubscribe needs an https link; over http it is not offered."""
        return self.base_url.startswith("https://")
