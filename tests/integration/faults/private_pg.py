"""A private PostgreSQL cluster for fault tests: initdb as the `postgres` OS user in a temporary
folder, on its own port, started and stopped with pg_ctl. The machine's shared server on 5432 is
never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import require

_BIN_DIRS = ("/usr/local/bin", *sorted(str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")))


def _tool(name: str) -> str | None:
    for folder in _BIN_DIRS:
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PrivateCluster:
    folder: Path
    port: int
    pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.folder / "server.log")
        self._as_postgres(
            self.pg_ctl, "-D", str(self.folder / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(self.pg_ctl, "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")


@contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """A running private cluster; removed with its folder when the block ends."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    require(initdb is not None and pg_ctl is not None, "initdb and pg_ctl are not installed")
    require(os.geteuid() == 0 and shutil.which("runuser") is not None, "not root: no runuser")
    assert initdb is not None and pg_ctl is not None
    # Not under pytest's tmp_path: its parents are root-only, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="dp-private-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    cluster = PrivateCluster(folder, _free_port(), pg_ctl)
    cluster._as_postgres(
        initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres", "--no-sync"
    )
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
