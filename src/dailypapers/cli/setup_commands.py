"""Setting up: init, migrate, config show and static-dir."""

from __future__ import annotations

import click

from dailypapers.cli.common import State, applied_text, friendly_errors, open_services
from dailypapers.config import describe_settings
from dailypapers.secret_key import write_secret_key
from dailypapers.store.migrate import upgrade


@click.command()
@click.pass_obj
def init(state: State) -> None:
    """Create the data directory and secret key, and bring the schema up to date."""
    settings = state.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if write_secret_key(settings.secret_key_path):
        click.echo(f"wrote a new secret key to {settings.secret_key_path} (mode 0600)")
    else:
        click.echo(f"kept the existing secret key in {settings.secret_key_path}")
    with friendly_errors(state), open_services(state) as services:
        applied = upgrade(services.db)
        click.echo(f"database {services.db.url}: {applied_text(applied)}")


@click.command()
@click.pass_obj
def migrate(state: State) -> None:
    """Apply pending schema migrations."""
    with friendly_errors(state), open_services(state) as services:
        click.echo(f"database {services.db.url}: {applied_text(upgrade(services.db))}")


@click.command("static-dir")
def static_dir() -> None:
    """Print the folder of the site's static files, for a reverse proxy to serve /static/ from."""
    from importlib.resources import files

    click.echo(str(files("dailypapers.web") / "static"))


@click.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.pass_obj
def config_show(state: State) -> None:
    """Print every setting with its effective value; secrets are masked."""
    for name, value in describe_settings(state.settings()).items():
        click.echo(f"{name} = {value}")
