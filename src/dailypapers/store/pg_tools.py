"""PostgreSQL's own tools for snapshots: pg_dump (custom format) and pg_restore, found on PATH.

The password travels in PGPASSWORD, never on a command line other users can read. A tool older
than the server is refused up front: pg_dump cannot dump a newer server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from dailypapers.errors import ConfigurationError, InvalidRequest

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")
# Seconds a dump or restore may take before it is called stuck.
TOOL_TIMEOUT_SECONDS = 6 * 3600


def find_tool(name: str, server_version_num: int) -> str:
    """The tool's path; ConfigurationError when missing or older than the server's major."""
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(
            f"{name} is not on PATH: install the PostgreSQL client tools "
            f"(Debian: apt install postgresql-client-{server_version_num // 10_000})"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    match = _VERSION.search(out.stdout)
    if match is None:
        raise ConfigurationError(f"could not read the version of {path}: {out.stdout.strip()!r}")
    tool_major, server_major = int(match[1]), server_version_num // 10_000
    if tool_major < server_major:
        raise ConfigurationError(
            f"{path} is version {tool_major} but the server is version {server_major}: "
            f"use pg_dump/pg_restore {server_major} or newer"
        )
    return path


def _conninfo(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and the environment that carries it."""
    plain = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=TOOL_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConfigurationError(f"{what} took longer than {TOOL_TIMEOUT_SECONDS} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise InvalidRequest(f"{what} failed: {' / '.join(detail[-3:]) or done.returncode}")


def dump(url: URL, destination: Path, server_version_num: int) -> None:
    """pg_dump -Fc of the whole database into `destination`: one consistent MVCC snapshot."""
    tool = find_tool("pg_dump", server_version_num)
    conninfo, env = _conninfo(url)
    command = [tool, "--format=custom", "--no-owner", "--no-privileges", "--file", str(destination)]
    _run([*command, "--dbname", conninfo], env, "pg_dump")


def restore(url: URL, snapshot: Path, server_version_num: int) -> None:
    """pg_restore into the configured database in one transaction: all of it or none of it."""
    tool = find_tool("pg_restore", server_version_num)
    conninfo, env = _conninfo(url)
    command = [
        tool,
        "--clean",
        "--if-exists",
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        "--dbname",
        conninfo,
        str(snapshot),
    ]
    _run(command, env, "pg_restore")
