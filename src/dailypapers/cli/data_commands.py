"""The store's data as a whole and per account: backup, restore, export, admin grant."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import click

from dailypapers.cli.common import (
    State,
    friendly_errors,
    human_size,
    index_summary,
    open_services,
    refresh_vector_index,
)
from dailypapers.community.accounts import grant_admin
from dailypapers.community.data_export import export_user_data
from dailypapers.search.catchup import rebuild as rebuild_index
from dailypapers.services import (
    require_current_schema,
)
from dailypapers.store.backup import (
    atomic_file,
    check_file_argument,
    check_new_file,
    new_restore_epoch,
)
from dailypapers.store.backup import backup as backup_store
from dailypapers.store.backup import restore as restore_store
from dailypapers.store.migrate import upgrade


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH when it exists.")
@click.pass_obj
def backup_command(state: State, path: Path, force: bool) -> None:
    """Write a consistent snapshot of the store to PATH while the server keeps running.

    SQLite: the backup API, one self-contained file. PostgreSQL: pg_dump's custom format (pg_dump
    on PATH, as new as the server). PATH is written beside and renamed into place, readable by
    its owner only. The search index is not in it: `restore` rebuilds it.
    """
    with friendly_errors(state), open_services(state) as services:
        target = check_new_file(path, force=force, db=services.db)
        started = time.perf_counter()
        size = backup_store(services.db, target)
        click.echo(
            f"backed up {services.db.url} to {target} ({human_size(size)}) "
            f"in {time.perf_counter() - started:.1f} s"
        )


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that already has content.")
@click.pass_obj
def restore_command(state: State, path: Path, force: bool) -> None:
    """Replace the store's content with the snapshot PATH made by `backup`, then rebuild the
    search index.

    All or nothing: SQLite copies it in one transaction (running servers see the old store or
    the restored one), PostgreSQL drops the store's tables and loads the snapshot in one transaction
    (pg_restore and psql). A store with content is replaced only with --force. Pending
    migrations of an older snapshot are applied. Other machines' search indexes rebuild on their
    next catch-up.
    """
    with friendly_errors(state), open_services(state) as services:
        snapshot = check_file_argument(path, must_exist=True)
        restore_store(services.db, snapshot, force=force)
        click.echo(f"restored {snapshot} into {services.db.url}")
        applied = upgrade(services.db)
        if applied:
            click.echo(f"applied migrations {', '.join(applied)}")
        new_restore_epoch(services.db, datetime.now(UTC))
        click.echo(index_summary(rebuild_index(services.db, services.search_index)))
        refresh_vector_index(services, force=True)


@click.command("export")
@click.option("--user", "email", required=True, help="The account's email address.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write the JSON to this file (readable by its owner only) instead of stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite --output when it exists.")
@click.pass_obj
def export_command(state: State, email: str, output: Path | None, force: bool) -> None:
    """Write one user's own data as JSON: profile, votes, submissions, comments, subscriptions,
    saved searches, API token names and paper-link edits (no secrets).
    """
    with friendly_errors(state), open_services(state) as services:
        target = check_new_file(output, force=force, db=services.db) if output else None
        require_current_schema(services.db)
        data = export_user_data(services.db, email, now=datetime.now(UTC))
    document = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if target is None:
        click.echo(document, nl=False)
        return
    with atomic_file(target) as partial:
        partial.write_text(document, encoding="utf-8")
    click.echo(f"wrote the data of {data['profile']['email']} to {target}", err=True)


@click.group()
def admin() -> None:
    """Manage the community's moderators."""


@admin.command("grant")
@click.argument("email")
@click.pass_obj
def admin_grant(state: State, email: str) -> None:
    """Make the account with EMAIL an admin, creating it if needed.

    An admin signs in with that address and moderates at /moderation: hide papers, delete
    comments, suspend users.
    """
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        account = grant_admin(services.db, email, now=datetime.now(UTC))
    click.echo(f"{account.email} (@{account.username}) is now an admin")
