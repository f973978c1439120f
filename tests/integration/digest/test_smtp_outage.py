"""The SMTP server disappears in the middle of a digest run (#10): the sender stops the batch,
the run ends with a clean report and nothing marked failed, `digest status` shows what waits,
and once the server is back a rerun delivers every missing digest, each exactly once.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select

from dailypapers.digest.periods import period_key
from dailypapers.store.deliveries import summarise
from dailypapers.store.schema import digest_deliveries
from tests.integration.digest.conftest import services_for
from tests.integration.digest.support import add_confirmed, sender
from tests.integration.smtp_sink import SmtpSink

WEEK = date(2026, 11, 2)
SUBSCRIBERS = 12
VANISH_AFTER = 4


class VanishingSink(SmtpSink):
    """Accepts `vanish_after` messages, then drops the connection mid-DATA and stops listening:
    from then on a connection is refused, as when a relay goes down."""

    def __init__(self, vanish_after: int | None = None, port: int | None = None) -> None:
        super().__init__()
        if port is not None:
            self.port = port
            self._controller = Controller(self, hostname="127.0.0.1", port=port)
        self.vanish_after = vanish_after
        self._stopper: threading.Thread | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.vanish_after is not None and len(self.messages) >= self.vanish_after:
            if self._stopper is None:
                self._stopper = threading.Thread(target=self._controller.stop, daemon=True)
                self._stopper.start()
            server.transport.abort()  # no reply: the client sees the link drop
            return "421 4.3.0 gone"
        return await super().handle_DATA(server, session, envelope)

    def __exit__(self, *exc: object) -> None:
        if self._stopper is None:
            super().__exit__(*exc)
        else:
            self._stopper.join(timeout=10)


def _states(services: Any) -> dict[str, int]:
    with services.db.read() as conn:
        rows = conn.execute(
            select(digest_deliveries.c.status, digest_deliveries.c.attempts).where(
                digest_deliveries.c.period == period_key("weekly", WEEK)
            )
        ).all()
    states: dict[str, int] = {}
    for status, _ in rows:
        states[status] = states.get(status, 0) + 1
    # Waiting out an outage spends no attempt: the addresses are not at fault.
    assert all(attempts == 0 for status, attempts in rows if status == "retry"), rows
    return states


def test_an_smtp_server_that_vanishes_mid_digest_loses_nothing(
    tmp_path: Path, store_url: str
) -> None:
    addresses = [f"reader{n}@example.org" for n in range(SUBSCRIBERS)]
    first = VanishingSink(vanish_after=VANISH_AFTER)
    with first:
        services = services_for(tmp_path, store_url, first, digest_max_wait_seconds=0.5)
        for address in addresses:
            add_confirmed(services, address)
        report = sender(services).run("weekly", WEEK)
    assert report.sent == VANISH_AFTER, report
    assert report.retried >= 1 and report.failed == 0 and report.bounced == 0, report
    states = _states(services)
    assert states == {"sent": VANISH_AFTER, "retry": SUBSCRIBERS - VANISH_AFTER}, states
    with services.db.read() as conn:
        summary = summarise(conn)
    assert summary.periods == {period_key("weekly", WEEK): states}
    assert any("away" in str(e) or "refused" in str(e).lower() for e in summary.recent_errors)

    # The server comes back on the same address; the next run (as cron would start it) sends
    # the rest once their backoff has passed, and nothing twice.
    patient = replace(services, digest=replace(services.digest, max_wait_seconds=10.0))
    with VanishingSink(port=first.port) as second:
        again = sender(patient).run("weekly", WEEK)
        delivered = [a for m in first.messages + second.messages for a in m.rcpt_tos]
    services.close()
    assert again.sent == SUBSCRIBERS - VANISH_AFTER and again.failed == 0, again
    assert sorted(delivered) == sorted(addresses), delivered
