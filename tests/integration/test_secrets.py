"""Secrets stay secret: `config show`, bad-settings errors, CLI errors and the logs never print
the secret key, a database or SMTP password, the DKIM key or a token."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.community.accounts import grant_admin
from dailypapers.community.api_tokens import create_api_token
from dailypapers.config import Settings
from dailypapers.services import build
from dailypapers.web.app import create_app
from dailypapers.web.deps import utc_now
from tests.integration.web_server import (
    HOSTILE_ID,
    TEST_SECRET,
    LiveServer,
    populate,
    serve,
)

SECRET_KEY = "key-that-must-not-show-" * 3
DB_PASSWORD = "db-pass-must-not-show"
DB_QUERY_PASSWORD = "db-query-pass-must-not-show"
SMTP_PASSWORD = "smtp-pass-must-not-show"
URL_TOKEN = "url-token-must-not-show"
DKIM_KEY_LINE = "MIIEdkimkeymustnotshow"
SECRETS = (SECRET_KEY, DB_PASSWORD, DB_QUERY_PASSWORD, SMTP_PASSWORD, URL_TOKEN, DKIM_KEY_LINE)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} printed:\n{text[-3000:]}"


@pytest.fixture
def secret_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    key = tmp_path / "dkim.pem"
    key.write_text(f"-----BEGIN PRIVATE KEY-----\n{DKIM_KEY_LINE}\n-----END PRIVATE KEY-----\n")
    values = {
        "DAILYPAPERS_DATA_DIR": str(tmp_path / "data"),
        "DAILYPAPERS_SECRET_KEY": SECRET_KEY,
        "DAILYPAPERS_DATABASE_URL": (
            f"postgresql+psycopg://dp:{DB_PASSWORD}@127.0.0.1:{_closed_port()}/papers"
            f"?password={DB_QUERY_PASSWORD}&connect_timeout=2"
        ),
        "DAILYPAPERS_SMTP_URL": f"smtp://mailer:{SMTP_PASSWORD}@127.0.0.1:587?starttls=true",
        "DAILYPAPERS_ARXIV_API_URL": f"http://127.0.0.1:9/api/query?token={URL_TOKEN}",
        "DAILYPAPERS_DKIM_PRIVATE_KEY_FILE": str(key),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return key


def test_config_show_masks_every_secret(secret_env: Path) -> None:
    code, output = _run("config", "show")
    assert code == 0, output
    _assert_clean(output)
    assert "secret_key = ********" in output
    assert "database_url = postgresql+psycopg://dp:********@127.0.0.1:" in output
    assert "?password=********&connect_timeout=2" in output
    assert "smtp_url = smtp://mailer:********@127.0.0.1:587?starttls=true" in output
    assert "arxiv_api_url = http://127.0.0.1:9/api/query?token=********" in output
    assert f"dkim_private_key_file = {secret_env}" in output


def test_a_misspelt_or_mistyped_secret_is_named_not_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(tmp_path / "data"))
    config = tmp_path / "dailypapers.toml"
    config.write_text(f'smtp_pasword = "{SMTP_PASSWORD}"\nsecret_key = ["{SECRET_KEY}"]\n')
    code, output = _run("--config", str(config), "config", "show")
    assert code == 1
    assert "bad settings" in output and "smtp_pasword" in output and "secret_key" in output
    _assert_clean(output)


def test_a_store_that_refuses_connections_is_reported_without_its_password(
    secret_env: Path,
) -> None:
    code, output = _run("stats")
    assert code != 0
    assert "127.0.0.1" in output or "connect" in output.lower(), output
    _assert_clean(output)


def test_logs_never_carry_tokens_or_passwords(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        base_url="http://testserver.invalid",
        environment="development",
        log_level="DEBUG",
        secret_key=TEST_SECRET,
    )
    services = build(settings)
    populate(services, tmp_path)
    account = grant_admin(services.db, "secrets@example.org", now=utc_now())
    api_token = create_api_token(services.db, account, "secrets", now=utc_now())
    app = create_app(services, access_log=True)
    caplog.set_level(logging.DEBUG)
    try:
        with serve(services, app) as server:
            _requests_with_secrets(server, api_token)
    finally:
        services.close()
    # The server's records (the test's own httpx client logs the URLs it requests).
    logged = "\n".join(
        f"{record.getMessage()} {record.__dict__}"
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "/signin/confirm" in logged, "the access log recorded nothing"
    assert api_token not in logged and api_token[3:] not in logged
    _assert_clean(logged)


def _requests_with_secrets(server: LiveServer, api_token: str) -> None:
    with server.client() as client:
        bearer = {"Authorization": f"Bearer {api_token}"}
        assert client.post(f"/api/papers/{HOSTILE_ID}/upvote", headers=bearer).status_code == 200
        client.get("/signin/confirm", params={"token": URL_TOKEN})
        client.get("/digest/unsubscribe", params={"token": URL_TOKEN})
        client.get("/digest/manage", params={"token": URL_TOKEN, "password": DB_PASSWORD})
        client.get(f"/api/papers/{HOSTILE_ID}", headers={"Authorization": f"Bearer {URL_TOKEN}"})
        client.post("/api/papers/submit", headers={"Authorization": f"Bearer {URL_TOKEN}"})
