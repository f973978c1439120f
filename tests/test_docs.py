"""Docs are tested: every command and setting is documented, and generated references are fresh."""

from __future__ import annotations

import re
import subprocess
import sys

import click

from dailypapers.cli import main
from dailypapers.config import Settings
from tests.conftest import REPO


def test_every_setting_has_a_description_and_is_in_the_configuration_doc() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"DAILYPAPERS_{name.upper()}" in doc


def test_every_command_has_help_and_is_in_the_cli_doc() -> None:
    doc = (REPO / "docs" / "cli.md").read_text()

    def walk(command: click.Command, path: str) -> None:
        assert command.help, f"{path} has no help text"
        assert f"## `{path}`" in doc, f"{path} is missing from docs/cli.md"
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(main, "dailypapers")


def test_generated_references_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    head = readme[: readme.index("## ")]
    assert "make demo" in head and "make test" in head


def test_the_changelog_names_an_issue_on_every_entry() -> None:
    entries = [
        line for line in (REPO / "CHANGELOG.md").read_text().splitlines() if line.startswith("- ")
    ]
    assert entries
    assert all(re.search(r"\(#\d+\)\.?$", line.rstrip()) for line in entries)
