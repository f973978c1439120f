"""Regenerate docs/cli.md and docs/configuration.md from the click group and the Settings model.

`make docs` runs it; tests/test_docs.py fails when the committed files differ from what it makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dailypapers.cli import main
from dailypapers.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def cli_reference() -> str:
    parts = [
        "# Command-line reference\n",
        "Generated from `dailypapers --help` by `make docs`; do not edit by hand.\n",
    ]
    for path, command in _walk(main, ["dailypapers"]):
        with click.Context(
            command,
            info_name=" ".join(path),
            terminal_width=100,
            max_content_width=100,
            help_option_names=["-h", "--help"],
        ) as ctx:
            help_text = command.get_help(ctx)
        parts.append(f"## `{' '.join(path)}`\n\n```text\n{help_text}\n```\n")
    return "\n".join(parts)


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _walk(command.commands[name], [*path, name])
    return found


def configuration_reference() -> str:
    lines = [
        "# Configuration\n",
        "Generated from the `Settings` model by `make docs`; do not edit by hand.\n",
        "Every setting is read from an environment variable `DAILYPAPERS_<NAME>` or from a TOML",
        "file named by `--config FILE` or `DAILYPAPERS_CONFIG_FILE` (keys in lower case, e.g.",
        '`site_name = "Lab papers"`). Environment variables win over the file.',
        "`dailypapers config show` prints the effective values with secrets masked.\n",
        "| Variable | Type | Default | Meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else f"`{default}`"
        type_name = getattr(field.annotation, "__name__", None)
        if type_name is None or type_name == "Literal":
            type_name = str(field.annotation)
        for prefix in ("typing.", "pathlib.", "pydantic.types."):
            type_name = type_name.replace(prefix, "")
        type_name = type_name.replace(" | ", " or ").replace("|", " or ")
        lines.append(
            f"| `DAILYPAPERS_{name.upper()}` | {type_name} | {shown} | {field.description} |"
        )
    return "\n".join(lines) + "\n"


def main_entry(check: bool) -> int:
    outputs = {
        DOCS / "cli.md": cli_reference(),
        DOCS / "configuration.md": configuration_reference(),
    }
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if check:
        for path in stale:
            print(f"{path} is out of date: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main_entry(check="--check" in sys.argv))
