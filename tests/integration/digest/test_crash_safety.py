"""The delivery guarantee against real `digest send` processes killed with SIGKILL, and two
senders at once on PostgreSQL: everyone gets their digest; the only duplicate is the documented
same-Message-ID resend of the message accepted just before the kill.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from dailypapers.services import Services
from dailypapers.store import subscribers as store
from tests.integration.digest.support import ScriptedSink, html_part
from tests.integration.smtp_sink import Received
from tests.integration.web_server import TEST_SECRET

SUBSCRIBERS = 300
DAY = "2026-11-04"


def _add_many(services: Services, count: int) -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with services.db.write() as conn:
        for n in range(count):
            sub = store.add_pending(conn, f"s{n:04d}@example.org", "weekly", user_id=None, now=now)
            store.confirm(conn, sub.id, ip="192.0.2.9", now=now)


def _start(tmp: Path, store_url: str, sink: ScriptedSink) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DAILYPAPERS_DATA_DIR": str(tmp / "data"),
        "DAILYPAPERS_DATABASE_URL": store_url,
        "DAILYPAPERS_SMTP_URL": sink.url,
        "DAILYPAPERS_SECRET_KEY": TEST_SECRET,
        "DAILYPAPERS_ENVIRONMENT": "development",
        "DAILYPAPERS_BASE_URL": "http://testserver.invalid",
        "DAILYPAPERS_LOG_LEVEL": "WARNING",
        "DAILYPAPERS_DIGEST_LEASE_SECONDS": "1.5",
        "DAILYPAPERS_DIGEST_BATCH_SIZE": "20",
    }
    cmd = [
        sys.executable,
        "-m",
        "dailypapers",
        "digest",
        "send",
        "--period",
        "weekly",
        "--date",
        DAY,
    ]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _by_message_id(messages: list[Received]) -> dict[str, list[Received]]:
    groups: dict[str, list[Received]] = defaultdict(list)
    for received in messages:
        groups[str(received.message["Message-ID"])].append(received)
    return groups


def _assert_same_content(copies: list[Received]) -> None:
    first = copies[0]
    for other in copies[1:]:
        assert other.text == first.text
        assert html_part(other.message) == html_part(first.message)
        assert other.message["Subject"] == first.message["Subject"]


def test_sigkill_at_several_points_then_rerun_loses_nothing(
    services: Services, sink: ScriptedSink, tmp_path: Path, store_url: str
) -> None:
    _add_many(services, SUBSCRIBERS)
    worst = 57
    # 1. the sink kills the sender right after accepting message N (the duplicate window)
    run = _start(tmp_path, store_url, sink)
    sink.kill_after = (worst, run.pid)
    assert run.wait(60) == -9
    accepted_n = str(sink.messages[worst - 1].message["Message-ID"])
    # 2. killed mid-batch while the server has not accepted the message yet
    run = _start(tmp_path, store_url, sink)
    sink.kill_before = (sink.data_commands + 30, run.pid)
    assert run.wait(60) == -9
    # 3. killed on its first message, with the first two runs' claims still leased
    run = _start(tmp_path, store_url, sink)
    sink.kill_before = (sink.data_commands + 1, run.pid)
    assert run.wait(60) == -9
    # 4. the rerun that finishes
    run = _start(tmp_path, store_url, sink)
    _out, err = run.communicate(timeout=90)
    assert run.returncode == 0, err.decode()
    received = {r.rcpt_tos[0] for r in sink.messages}
    assert received == {f"s{n:04d}@example.org" for n in range(SUBSCRIBERS)}
    groups = _by_message_id(sink.messages)
    assert len(groups) == SUBSCRIBERS
    duplicated = {mid: copies for mid, copies in groups.items() if len(copies) > 1}
    assert list(duplicated) == [accepted_n] and len(duplicated[accepted_n]) == 2
    _assert_same_content(duplicated[accepted_n])


def test_two_senders_at_once_send_no_duplicates(
    services: Services, sink: ScriptedSink, tmp_path: Path, store_url: str
) -> None:
    """PostgreSQL senders share the work through SKIP LOCKED; SQLite serialises their claims."""
    _add_many(services, SUBSCRIBERS)
    runs = [_start(tmp_path, store_url, sink) for _ in range(2)]
    sent = []
    for run in runs:
        out, err = run.communicate(timeout=90)
        assert run.returncode == 0, err.decode()
        sent.append(int(out.decode().split(": ", 1)[1].split(" sent")[0]))
    assert sum(sent) == SUBSCRIBERS, f"the two senders reported {sent}"
    groups = _by_message_id(sink.messages)
    assert len(sink.messages) == SUBSCRIBERS == len(groups)
    assert {r.rcpt_tos[0] for r in sink.messages} == {
        f"s{n:04d}@example.org" for n in range(SUBSCRIBERS)
    }
