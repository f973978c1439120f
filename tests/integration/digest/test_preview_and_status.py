"""`digest preview`, `digest status` and the admin's browser preview: they show, never send."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.community.accounts import grant_admin
from dailypapers.services import Services
from tests.integration.digest.support import ScriptedSink, add_confirmed, link
from tests.integration.web_server import TEST_SECRET

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def cli_env(
    tmp_path: Path, store_url: str, sink: ScriptedSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in {
        "DAILYPAPERS_DATA_DIR": str(tmp_path / "data"),
        "DAILYPAPERS_DATABASE_URL": store_url,
        "DAILYPAPERS_SMTP_URL": sink.url,
        "DAILYPAPERS_SECRET_KEY": TEST_SECRET,
        "DAILYPAPERS_ENVIRONMENT": "development",
        "DAILYPAPERS_BASE_URL": "http://testserver.invalid",
    }.items():
        monkeypatch.setenv(key, value)


def test_preview_prints_the_next_digest_and_status_counts_the_ledger(
    services: Services, sink: ScriptedSink, cli_env: None
) -> None:
    add_confirmed(services, "peek@example.org")
    runner = CliRunner()
    preview = runner.invoke(main, ["digest", "preview", "peek@example.org", "--date", "2026-11-04"])
    assert preview.exit_code == 0, preview.output
    assert "papers for 2026-W45" in preview.output and "Why: Trending" in preview.output
    assert sink.messages == [], "a preview sends nothing"
    status = runner.invoke(main, ["digest", "status"])
    assert "1 confirmed" in status.output and "2026-W45" not in status.output
    sent = runner.invoke(main, ["digest", "send", "--period", "weekly", "--date", "2026-11-04"])
    assert sent.exit_code == 0, sent.output
    assert "weekly:2026-W45: 1 sent" in sent.output
    status = runner.invoke(main, ["digest", "status"])
    assert "weekly:2026-W45: 1 sent" in status.output
    body = sink.wait_for("peek@example.org").text.replace("\r", "")
    first_item = next(line for line in body.splitlines() if line.startswith("1. "))
    assert first_item in preview.output, "the preview shows what was then sent"


def test_only_admins_open_the_browser_preview(
    services: Services, sink: ScriptedSink, client: TestClient
) -> None:
    add_confirmed(services, "someone@example.org")
    assert client.get("/admin/digest/preview?email=someone@example.org").status_code == 403
    grant_admin(services.db, "boss@example.org", now=datetime.now(UTC))
    page = client.get("/signin")
    csrf = unescape(_CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    client.post("/signin", data={"csrf": csrf, "email": "boss@example.org", "next": "/"})
    confirm = link(sink.wait_for("boss@example.org").text, "/signin/confirm")
    page = client.get(confirm)
    csrf = unescape(_CSRF.search(page.text).group(1))  # type: ignore[union-attr]
    token = confirm.split("token=", 1)[1]
    client.post("/signin/confirm", data={"csrf": csrf, "token": token}, follow_redirects=False)
    preview = client.get("/admin/digest/preview?email=someone@example.org")
    assert preview.status_code == 200 and "Why: Trending" in preview.text
    assert len(sink.to("someone@example.org")) == 0
