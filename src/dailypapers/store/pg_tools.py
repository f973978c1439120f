"""PostgreSQL's tools for snapshots, found on PATH: pg_dump (custom format), pg_restore, psql.

The password travels in PGPASSWORD, never on a command line other users can read. A tool older
than the server is refused up front: pg_dump cannot dump a newer server.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
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


def restore(
    url: URL,
    snapshot: Path,
    server_version_num: int,
    *,
    tables: Sequence[str],
    sequences: Sequence[str],
) -> None:
    """Replace the store's `tables` and `sequences` with the snapshot's, in one transaction: all
    or nothing.

    pg_restore turns the snapshot into SQL, and psql runs it after dropping those tables and
    sequences, between a BEGIN and a COMMIT that is sent only once pg_restore has read the whole
    snapshot: a snapshot damaged halfway ends the session without COMMIT, which rolls it all back.
    The store's tables are dropped, not only the snapshot's (pg_restore --clean): an older
    snapshot would leave a newer migration's table behind, and re-creating it would fail. Other
    tables of the database are left alone.
    """
    drop = (
        f"DROP TABLE IF EXISTS {', '.join(map(_quoted, tables))} CASCADE;\n"
        f"DROP SEQUENCE IF EXISTS {', '.join(map(_quoted, sequences))} CASCADE;\n"
    )
    restore_tool = find_tool("pg_restore", server_version_num)
    psql = find_tool("psql", server_version_num)
    conninfo, env = _conninfo(url)
    script = [restore_tool, "--no-owner", "--no-privileges", "--file", "-", str(snapshot)]
    runner = [psql, "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--dbname", conninfo]
    with tempfile.TemporaryFile() as script_err, tempfile.TemporaryFile() as runner_err:
        with (
            subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=script_err) as source,
            subprocess.Popen(
                runner, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=runner_err
            ) as sink,
        ):
            assert source.stdout is not None and sink.stdin is not None
            try:
                sink.stdin.write(("BEGIN;\n" + drop).encode())
                for chunk in iter(lambda: source.stdout.read(1 << 16), b""):  # type: ignore[union-attr]
                    sink.stdin.write(chunk)
                if source.wait(timeout=TOOL_TIMEOUT_SECONDS) == 0:
                    sink.stdin.write(b"\nCOMMIT;\n")
            except BrokenPipeError:
                source.kill()  # psql stopped at an error: its stderr says which
            except subprocess.TimeoutExpired as exc:
                source.kill()
                sink.kill()
                raise ConfigurationError(
                    f"pg_restore took longer than {TOOL_TIMEOUT_SECONDS} s"
                ) from exc
            finally:
                with contextlib.suppress(BrokenPipeError):
                    sink.stdin.close()
            sink.wait(timeout=TOOL_TIMEOUT_SECONDS)
        # psql first: when it stopped at an error, pg_restore was killed for it.
        for process, errors in ((sink, runner_err), (source, script_err)):
            if process.returncode != 0:
                errors.seek(0)
                lines = errors.read().decode(errors="replace").strip().splitlines()
                raise InvalidRequest(
                    f"pg_restore failed: {' / '.join(lines[-3:]) or process.returncode}"
                )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
