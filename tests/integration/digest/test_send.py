"""`digest send` over a real SMTP sink: the message, the ledger, retries, bounces, quiet periods."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dailypapers.digest.periods import period_key
from dailypapers.services import Services
from dailypapers.store.schema import digest_attempts, digest_deliveries, subscribers
from tests.integration.digest.support import (
    ScriptedSink,
    add_confirmed,
    html_part,
    make_services,
    sender,
)

WEEK1 = date(2026, 11, 2)
WEEK2 = date(2026, 11, 9)


def _ids(text: str) -> set[str]:
    return {
        line.strip().rsplit("/", 1)[-1]
        for line in text.splitlines()
        if "/papers/" in line and "digest" not in line
    }


def test_a_digest_is_multipart_with_list_headers_and_one_click_works_without_cookies(
    services: Services, sink: ScriptedSink, client: TestClient
) -> None:
    add_confirmed(services, "reader@example.org")
    report = sender(services).run("weekly", WEEK1)
    assert report.sent == 1
    message = sink.wait_for("reader@example.org").message
    assert message.get_content_type() == "multipart/alternative"
    assert {p.get_content_type() for p in message.iter_parts()} == {"text/plain", "text/html"}
    assert message["List-Id"].endswith("<digest.testserver.invalid>")
    # RFC 8058 one-click needs https: over http the header is not sent, the link still works.
    assert message["List-Unsubscribe-Post"] is None
    https, mailto = (u.strip(" <>") for u in message["List-Unsubscribe"].split(","))
    assert https.startswith("http://testserver.invalid/digest/unsubscribe?token=")
    token = https.split("token=", 1)[1]
    # The mailto's subject carries the same signed token, not a guessable subscriber id.
    assert mailto.startswith("mailto:") and mailto.endswith(f"?subject=unsubscribe%20{token}")
    assert message["Message-ID"].startswith("<digest.weekly.2026-W45.")
    assert message["Date"] is not None
    assert "Unsubscribe" in html_part(message) and "Unsubscribe:" in sink.messages[0].text
    path = https.removeprefix("http://testserver.invalid")
    client.cookies.clear()
    one_click = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    with services.db.read() as conn:
        status = conn.execute(
            select(subscribers.c.status).where(subscribers.c.email == "reader@example.org")
        ).scalar_one()
    assert status == "unsubscribed"


def test_over_https_one_click_is_offered_and_message_ids_use_the_senders_domain(
    tmp_path: Path, store_url: str, sink: ScriptedSink, caplog: pytest.LogCaptureFixture
) -> None:
    secure = make_services(
        tmp_path,
        store_url,
        sink,
        base_url="https://papers.example.org",
        mail_from="Papers <digest@mail.example.net>",
    )
    try:
        add_confirmed(secure, "secure@example.org")
        assert sender(secure).run("weekly", WEEK1).sent == 1
    finally:
        secure.close()
    message = sink.wait_for("secure@example.org").message
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@mail.example.net>")
    assert "not https" not in caplog.text


def test_an_http_base_url_is_warned_about_when_a_sender_starts(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="dailypapers.services"):
        services.digest_sender()
    assert "not https" in caplog.text and "one-click" in caplog.text


def test_no_paper_is_sent_twice_across_periods_and_a_rerun_sends_nothing(
    services: Services, sink: ScriptedSink
) -> None:
    add_confirmed(services, "twice@example.org")
    sender(services).run("weekly", WEEK1)
    assert sender(services).run("weekly", WEEK1).sent == 0
    sender(services).run("weekly", WEEK2)
    first, second = sink.to("twice@example.org")
    assert first.message["Message-ID"] != second.message["Message-ID"]
    seen1, seen2 = _ids(first.text), _ids(second.text)
    assert seen1 and seen2 and not seen1 & seen2
    assert len(seen1) == services.digest.top_n
    assert sink.connections == 1, "the SMTP connection is reused across messages and runs"


def test_a_quiet_period_is_recorded_not_silent(services: Services, sink: ScriptedSink) -> None:
    sid = add_confirmed(services, "quiet@example.org", keywords=("zzzqqqnothingmatches",))
    report = sender(services).run("weekly", WEEK1)
    assert report.quiet == 1 and report.sent == 0 and sink.to("quiet@example.org") == []
    with services.db.read() as conn:
        row = conn.execute(
            select(digest_deliveries.c.status).where(digest_deliveries.c.subscriber_id == sid)
        ).scalar_one()
    assert row == "quiet"


def test_a_quiet_period_sends_a_note_when_the_setting_says_so(
    services: Services, sink: ScriptedSink
) -> None:
    from dataclasses import replace

    add_confirmed(services, "note@example.org", keywords=("zzzqqqnothingmatches",))
    noted = replace(services, digest=replace(services.digest, quiet_mode="note"))
    assert sender(noted).run("weekly", WEEK1).sent == 1
    mail = sink.wait_for("note@example.org")
    assert "a quiet week" in mail.message["Subject"] and "Nothing new" in mail.text


def test_temporary_failures_retry_until_delivered(services: Services, sink: ScriptedSink) -> None:
    for n in range(5):
        add_confirmed(services, f"r{n}@example.org")
    sink.answer = lambda n: "451 4.3.0 try again later" if n <= 4 else "250 OK"
    report = sender(services).run("weekly", WEEK1)
    assert report.sent == 5 and report.retried == 4 and report.failed == 0
    assert sorted(r.rcpt_tos[0] for r in sink.messages) == [f"r{n}@example.org" for n in range(5)]
    with services.db.read() as conn:
        outcomes = list(conn.execute(select(digest_attempts.c.outcome)).scalars())
    assert outcomes.count("retry") == 4 and outcomes.count("sent") == 5


def test_a_permanent_refusal_marks_a_bounce(services: Services, sink: ScriptedSink) -> None:
    from dataclasses import replace

    sid = add_confirmed(services, "gone@example.org")
    sink.answer = lambda n: "550 5.1.1 no such user"
    strict = replace(services, digest=replace(services.digest, bounce_threshold=1))
    report = sender(strict).run("weekly", WEEK1)
    assert report.bounced == 1 and report.sent == 0
    with services.db.read() as conn:
        sub = conn.execute(select(subscribers).where(subscribers.c.id == sid)).one()
        status = conn.execute(
            select(digest_deliveries.c.status, digest_deliveries.c.error).where(
                digest_deliveries.c.period == period_key("weekly", WEEK1)
            )
        ).one()
    assert sub.bounce_count == 1 and sub.status == "bouncing"
    assert status.status == "bounced" and status.error.startswith("550")
    sink.answer = None
    assert sender(strict).run("weekly", WEEK2).sent == 0, "a bouncing address is left alone"


def test_the_view_in_browser_link_shows_the_digest_it_came_with(
    services: Services, sink: ScriptedSink, client: TestClient
) -> None:
    from tests.integration.digest.support import link

    add_confirmed(services, "viewer@example.org")
    sender(services).run("weekly", WEEK1)
    sender(services).run("weekly", WEEK2)
    first, second = sink.to("viewer@example.org")
    for mail in (first, second):
        page = client.get(link(mail.text, "/digest/view"))
        assert page.status_code == 200
        assert _ids(mail.text) <= set(re.findall(r"/papers/([^\"\s<]+)", page.text)), (
            "the page lists that period's papers"
        )
