"""serve (uvicorn, its workers and their shared metrics folder)."""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

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

    Links in feeds and emails name the base_url setting (DAILYPAPERS_BASE_URL); serve warns when
    it is a local address (localhost, 127.0.0.1) that does not match --host and --port.
    """
    import uvicorn

    state.as_service()
    with friendly_errors(state), open_services(state) as services:
        services.secret  # noqa: B018 (refuse to start without a usable key, before any worker)
        require_current_schema(services.db)
        warning = base_url_warning(services.site.base_url, host, port)
    # The workers build their own settings from the environment: hand them the file and flags.
    if state.config_file is not None:
        os.environ[CONFIG_FILE_ENV] = str(state.config_file.resolve())
    if access_log is not None:
        os.environ["DAILYPAPERS_ACCESS_LOG"] = "true" if access_log else "false"
    if warning is not None:  # a log record: one JSON line where logs are JSON
        log.warning("%s", warning)
    folder, temporary = _metrics_dir(metrics_dir, workers)
    click.echo(f"serving on {_origin(host, port)} with {workers} worker(s)")
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


# Names a link on this machine may use for a server listening on it; 0.0.0.0 and :: listen on
# every address, loopback included.
_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "::"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_local_host(host: str) -> bool:
    """localhost, a loopback address (127.0.0.0/8, ::1) or the any-address (0.0.0.0, ::)."""
    name = host.strip("[]").lower()
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def base_url_warning(base_url: str, host: str, port: int) -> str | None:
    """The warning to print when the links the site writes (feeds, emails) would not reach the
    server `serve --host host --port port` starts; None when they would, or cannot be judged.

    Only an http base_url on a local address (localhost, 127.0.0.1, ::1, 0.0.0.0) is checked:
    that is the default, and the demo's, and such a link works only when it names the port served
    and the server listens on a local address. An https base_url names a TLS-terminating proxy in
    front (serve speaks plain HTTP). A base_url on any other host is taken to be the public
    address of a reverse proxy too. In both cases the proxy's port rightly differs from the
    app's, and nothing is said. All local names count as one host, since each reaches a server on
    127.0.0.1 or 0.0.0.0.
    """
    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname or not is_local_host(parts.hostname):
        return None
    try:
        linked_port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
    except ValueError:  # the settings check the URL; a port out of range is not judged here
        return None
    if linked_port == port and is_local_host(host):
        return None
    served = _origin(host, port)
    or_port = f", or serve with --port {linked_port}" if is_local_host(host) else ""
    return (
        f"base_url is {base_url} but this server answers on {served}: the links in "
        f"feeds and emails (sign-in, digests) will point at {base_url}. To match, set "
        f"DAILYPAPERS_BASE_URL={served} (or base_url in the config file){or_port}."
    )


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


log = logging.getLogger(__name__)

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
