"""The command line: `dailypapers COMMAND`, one module per group of commands; errors become short
messages (tracebacks with --debug)."""

from __future__ import annotations

from pathlib import Path

import click

from dailypapers import __version__
from dailypapers.cli import (
    data_commands,
    digest_commands,
    index_commands,
    ingest_commands,
    ops_commands,
    serve_command,
    setup_commands,
)
from dailypapers.cli.common import State
from dailypapers.config import CONFIG_FILE_ENV


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dailypapers")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_FILE_ENV,
    help="TOML settings file (also DAILYPAPERS_CONFIG_FILE). Environment variables override it.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.option(
    "--verbose",
    "-v",
    count=True,
    help="Show the steps' log records (-v: INFO, -vv: DEBUG, other libraries' too).",
)
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, debug: bool, verbose: int) -> None:
    """dailypapers: a self-hostable research-papers hub."""
    ctx.obj = State(config_file, debug, verbose)


for command in (
    setup_commands.init,
    setup_commands.migrate,
    setup_commands.config,
    setup_commands.static_dir,
    ingest_commands.import_command,
    ingest_commands.harvest,
    index_commands.index,
    index_commands.vectors,
    serve_command.serve,
    ops_commands.stats,
    ops_commands.status_command,
    ops_commands.schedule,
    digest_commands.digest,
    data_commands.backup_command,
    data_commands.restore_command,
    data_commands.export_command,
    data_commands.admin,
):
    main.add_command(command)

__all__ = ["main"]
