"""The files under deploy/ stay in step with the code: every command line the systemd units run
parses as the CLI defines it, and every setting of the example environment file exists and
validates. (deploy/nginx.conf itself is run by tests/integration/test_deployment.py.)
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click
import pytest

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
    for path in sorted(DEPLOY.iterdir()):
        assert path.read_text().rstrip("\n") in doc, f"docs/deploy.md quotes an old {path.name}"


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
