"""The files under deploy/ stay in step with the code: every command line the systemd units run
parses as the CLI defines it, and every setting of the example environment file exists and
validates. (deploy/nginx.conf itself is run by tests/integration/test_deployment.py.)
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from dailypapers.cli import main
from dailypapers.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def unit_values(path: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


def test_the_units_are_there() -> None:
    names = {p.name for p in UNITS}
    assert {"dailypapers-serve.service", "dailypapers-schedule.service"} <= names
    assert (DEPLOY / "dailypapers-index.timer").is_file()


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_command_lines_parse(unit: Path) -> None:
    (command,) = unit_values(unit, "ExecStart")
    # systemd specifiers: %t is the runtime directory root.
    argv = shlex.split(command.replace("%t", "/run"))
    assert argv[0].endswith("/bin/dailypapers")
    (environment_file,) = unit_values(unit, "EnvironmentFile")
    assert environment_file == "/etc/dailypapers/env"
    # The units give no group options: the command comes first.
    name, args = argv[1], argv[2:]
    with click.Context(main) as ctx:
        sub = main.get_command(ctx, name)
        assert sub is not None, f"{unit.name} runs an unknown command {name!r}"
        sub.make_context(name, args, parent=ctx)


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as systemd reads them: comments skipped, one level of quotes removed."""
    values = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        (values[key],) = shlex.split(value) if value else [""]
    return values


def test_the_example_environment_file_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    values = read_environment_file(DEPLOY / "dailypapers.env")
    for key, value in values.items():
        assert key.startswith("DAILYPAPERS_"), key
        assert key.removeprefix("DAILYPAPERS_").lower() in Settings.model_fields, key
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.trusted_proxies == ["127.0.0.1", "::1"]
    assert settings.log_format == "json"
    assert settings.access_log is True
    assert settings.mail_from == "Daily Papers <papers@example.org>"
    assert settings.effective_database_url.startswith("postgresql+psycopg://dailypapers@/")


def test_docs_quote_the_deploy_files_as_they_are() -> None:
    doc = (DEPLOY.parent / "docs" / "deploy.md").read_text()
    quoted = [p for p in sorted(DEPLOY.rglob("*")) if p.is_file()]
    for path in [*quoted, DEPLOY.parent / "Dockerfile", DEPLOY.parent / "compose.yaml"]:
        assert path.read_text().rstrip("\n") in doc, f"docs/deploy.md quotes an old {path.name}"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY.parent / "compose.yaml").read_text())
    return loaded


ENTRYPOINT_ROLES = {"setup", "serve"}  # deploy/docker/entrypoint.sh; anything else is a command


def test_compose_runs_two_app_workers_a_scheduler_and_postgres() -> None:
    services = _compose()["services"]
    assert services["db"]["image"].startswith("postgres:")
    built = {name: spec for name, spec in services.items() if spec.get("build") == "."}
    commands = {name: spec["command"] for name, spec in built.items()}
    assert sorted(c[0] for c in commands.values()) == ["schedule", "serve", "serve", "setup"]
    for name, spec in built.items():
        if name != "setup":  # the rest start once the schema (and sample) are in
            assert spec["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}


def test_compose_commands_parse_and_its_settings_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    services = _compose()["services"]
    for name, spec in services.items():
        if spec.get("build") != ".":
            continue
        command, *args = spec["command"]
        if command == "serve":  # the entry point adds --host and --port
            args = ["--host", "0.0.0.0", "--port", "8000", *args]
        if command not in ENTRYPOINT_ROLES or command == "serve":
            with click.Context(main) as ctx:
                sub = main.get_command(ctx, command)
                assert sub is not None, f"{name} runs an unknown command {command!r}"
                sub.make_context(command, args, parent=ctx)
        for key, value in spec["environment"].items():
            if key == "DAILYPAPERS_LOAD_SAMPLE":  # read by the entry point
                continue
            assert key.removeprefix("DAILYPAPERS_").lower() in Settings.model_fields, key
            # ${VAR:-default} and ${VAR:?message}: the default, or a stand-in secret.
            resolved = re.sub(
                r"\$\{(\w+):([-?])([^}]*)\}",
                lambda m: m.group(3) if m.group(2) == "-" else "x" * 48,
                str(value),
            )
            monkeypatch.setenv(key, resolved)
        settings = Settings()
        assert settings.effective_database_url.startswith("postgresql+psycopg://dailypapers:")


def test_the_image_runs_as_a_user_without_torch() -> None:
    dockerfile = (DEPLOY.parent / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.1[1-9]-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER dailypapers$", dockerfile, re.MULTILINE)
    assert "torch" not in dockerfile.replace("no torch", "")
    install = (DEPLOY / "docker" / "install.sh").read_text()
    assert "--no-deps" in install and "[export]" not in install


def test_serve_empties_only_prometheus_files_from_the_metrics_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dailypapers.cli.serve_command import MULTIPROC_ENV, _metrics_dir

    # _metrics_dir sets the variable itself: have monkeypatch remember to remove it afterwards.
    monkeypatch.setenv(MULTIPROC_ENV, "")
    monkeypatch.delenv(MULTIPROC_ENV)
    folder = tmp_path / "metrics"
    folder.mkdir()
    for name in ("counter_41.db", "histogram_41.db", "gauge_livesum_41.db", "mine.db", "x.txt"):
        (folder / name).write_text("old")
    assert _metrics_dir(folder, 4) == (folder, False)
    assert sorted(p.name for p in folder.iterdir()) == ["mine.db", "x.txt"]
    assert Path(os.environ[MULTIPROC_ENV]) == folder.resolve()
    # No folder given: one worker needs none; several get a temporary one.
    monkeypatch.delenv(MULTIPROC_ENV)
    assert _metrics_dir(None, 1) == (None, False)
    made, temporary = _metrics_dir(None, 2)
    assert temporary and made is not None and made.is_dir()
    made.rmdir()
