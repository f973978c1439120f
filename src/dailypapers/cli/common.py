"""What every command shares: settings and services for a command, friendly errors, and the
summaries several commands print."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from dailypapers.config import Settings, load_settings
from dailypapers.errors import DailyPapersError
from dailypapers.search.catchup import CatchUpReport
from dailypapers.search.paper_vectors import refresh_vectors
from dailypapers.services import Services, build


class State:
    """The global options (--config, --debug, -v), handed to every command.

    One-shot commands (init, import, index, vectors...) print one line per step themselves, so
    their log records show from WARNING up unless log_level is set or -v is given (-v: INFO,
    -vv: DEBUG, other libraries' records too). The services, `serve` and `schedule`, call
    `as_service` first: their log is the settings' log_level (INFO by default)."""

    def __init__(self, config_file: Path | None, debug: bool, verbose: int = 0) -> None:
        self.config_file = config_file
        self.debug = debug
        self.verbose = verbose
        self.service = False

    def as_service(self) -> None:
        self.service = True

    def settings(self) -> Settings:
        try:
            settings = load_settings(self.config_file)
        except (OSError, ValueError, RecursionError) as exc:
            # OSError: a path that is a folder or unreadable; RecursionError: TOML nested too deep.
            raise click.ClickException(f"bad settings: {exc}") from exc
        if self.verbose:
            level = "DEBUG" if self.verbose > 1 else "INFO"
            return settings.model_copy(update={"log_level": level})
        if not self.service and "log_level" not in settings.model_fields_set:
            return settings.model_copy(update={"log_level": "WARNING"})
        return settings


@contextmanager
def open_services(state: State) -> Iterator[Services]:
    services = build(state.settings())
    try:
        yield services
    finally:
        services.close()


@contextmanager
def friendly_errors(state: State) -> Iterator[None]:
    try:
        yield
    except DailyPapersError as exc:
        if state.debug:
            raise
        raise click.ClickException(str(exc)) from exc


def applied_text(applied: list[str]) -> str:
    return f"applied migrations {', '.join(applied)}" if applied else "schema is up to date"


def index_summary(report: CatchUpReport) -> str:
    how = "rebuilt" if report.rebuilt else "caught up"
    return (
        f"search index {how}: generation {report.generation}, {report.docs:,} papers, "
        f"{report.written:,} written, {report.deleted:,} removed, {report.skipped:,} unchanged, "
        f"in {report.seconds:.1f} s"
    )


def raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def refresh_vector_index(services: Services, *, force: bool = False) -> None:
    vectors = services.vectors
    report = refresh_vectors(
        services.db,
        services.search_index,
        vectors.model_id,
        vectors.dim,
        exact_max=vectors.exact_max,
        force=force,
    )
    if report.rebuilt:
        click.echo(
            f"vector index: generation {report.generation}, {report.rows:,} papers with vectors, "
            f"{report.missing:,} without (found by keyword only)"
        )


def human_size(size: int | None) -> str:
    if size is None:
        return "unknown"
    return f"{size / 1e6:,.1f} MB"
