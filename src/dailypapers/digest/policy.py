"""The digests' knobs and names, as plain values handed down by the composition root."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DigestPolicy:
    site_name: str = "dailypapers"
    base_url: str = "http://127.0.0.1:8000"
    mail_from: str = "dailypapers <noreply@localhost>"
    top_n: int = 10
    # "skip": a period with nothing new sends nothing (recorded as quiet); "note": a short note.
    quiet_mode: str = "skip"
    confirm_hours: int = 72
    subscribe_per_hour_per_ip: int = 20
    subscribe_per_hour_per_address: int = 3
    batch_size: int = 100
    lease_seconds: float = 300.0
    retry_base_seconds: float = 30.0
    max_attempts: int = 6
    # A run waits this long at most for retries or other workers' claims before it returns.
    max_wait_seconds: float = 600.0
    bounce_threshold: int = 3
    trending_half_life_hours: float = 24.0
    trending_window_days: int = 7
    candidates: int = 100

    @property
    def list_id(self) -> str:
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
        return f"{self.site_name} digest <digest.{host}>"

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
