"""serve (uvicorn, its workers and their shared metrics folder)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import click

from dailypapers.cli.common import State, friendly_errors, open_services
from dailypapers.config import CONFIG_FILE_ENV
from dailypapers.services import (
    require_current_schema,
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log one line per request (default: the access_log setting).",
)
@click.option(
    "--metrics-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        "Folder where the workers keep their metrics for /metrics (PROMETHEUS_MULTIPROC_DIR), "
        "emptied at start; one per serve. Default: that variable if set, else a temporary "
        "folder when --workers > 1, removed at exit."
    ),
)
@click.pass_obj
def serve(
    state: State,
    host: str,
    port: int,
    workers: int,
    access_log: bool | None,
    metrics_dir: Path | None,
) -> None:
    """Serve the site and the JSON API (refuses to start while migrations are pending).

    Behind a reverse proxy, the proxy's X-Forwarded-For, X-Forwarded-Proto and X-Request-ID are
    believed from the addresses in the trusted_proxies setting only (docs/deploy.md).
    """
    import uvicorn

    with friendly_errors(state), open_services(state) as services:
        services.secret  # noqa: B018 (refuse to start without a usable key, before any worker)
        require_current_schema(services.db)
    # The workers build their own settings from the environment: hand them the file and flags.
    if state.config_file is not None:
        os.environ[CONFIG_FILE_ENV] = str(state.config_file.resolve())
    if access_log is not None:
        os.environ["DAILYPAPERS_ACCESS_LOG"] = "true" if access_log else "false"
    folder, temporary = _metrics_dir(metrics_dir, workers)
    click.echo(f"serving on http://{host}:{port} with {workers} worker(s)")
    try:
        uvicorn.run(
            "dailypapers.web.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # The app logs requests itself (tokens redacted, request ids, log_format) and reads
            # forwarded headers itself, from trusted_proxies only.
            access_log=False,
            log_config=None,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
        )
    finally:
        if temporary and folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _metrics_dir(given: Path | None, workers: int) -> tuple[Path | None, bool]:
    """The multiprocess metrics folder, emptied, and whether it is a temporary one."""
    import tempfile

    if given is None and os.environ.get(MULTIPROC_ENV):
        given = Path(os.environ[MULTIPROC_ENV])
    if given is None:
        if workers == 1:
            return None, False
        folder = Path(tempfile.mkdtemp(prefix="dailypapers-metrics-"))
        os.environ[MULTIPROC_ENV] = str(folder)
        return folder, True
    # Counts left by an earlier run would be added to this one's.
    given.mkdir(parents=True, exist_ok=True)
    for stale in given.glob("*.db"):
        # Only prometheus_client's own files (counter_123.db, gauge_livesum_123.db, ...).
        if re.fullmatch(r"(counter|histogram|summary|gauge_\w+)_\d+\.db", stale.name):
            stale.unlink()
    os.environ[MULTIPROC_ENV] = str(given.resolve())
    return given, False
