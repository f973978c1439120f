"""A deployment on loopback: `dailypapers serve --workers N` as a real process, and Debian's nginx
in front of it running deploy/nginx.conf with only its ports and paths changed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
NGINX_CONF = REPO / "deploy" / "nginx.conf"
NGINX = "/usr/sbin/nginx"
STATIC_DIR = Path(str(files("dailypapers.web") / "static"))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: object, what: str, timeout: float = 60.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.1)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for localhost and 127.0.0.1 (openssl CLI)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def render_site_config(
    *,
    https_port: int,
    http_port: int,
    upstream_port: int,
    cert: Path,
    key: Path,
    access_log: Path,
    static_dir: Path = STATIC_DIR,
) -> str:
    """deploy/nginx.conf with loopback ports and test paths: nothing else changes."""
    text = NGINX_CONF.read_text()
    changes = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "/etc/letsencrypt/live/papers.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/papers.example.org/privkey.pem": str(key),
        "/var/log/nginx/dailypapers.access.log": str(access_log),
        "alias /srv/dailypapers/static/;": f"alias {static_dir}/;",
    }
    lines = text.splitlines(keepends=True)
    for old, new in changes.items():
        # Each is a live directive (not in a comment), on exactly one line.
        live = [
            i for i, line in enumerate(lines) if old in line and not line.lstrip().startswith("#")
        ]
        assert len(live) == 1, f"deploy/nginx.conf changed: {old!r} is not on one live line"
        lines[live[0]] = lines[live[0]].replace(old, new)
    text = "".join(lines)
    return text


def main_config(folder: Path, site: Path) -> str:
    """nginx's own nginx.conf for the test: what Debian's puts around conf.d/*.conf."""
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}worker_processes 1;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        "    sendfile on;\n"
        f"    client_body_temp_path {folder}/body;\n"
        f"    proxy_temp_path {folder}/proxy;\n"
        f"    fastcgi_temp_path {folder}/fastcgi;\n"
        f"    uwsgi_temp_path {folder}/uwsgi;\n"
        f"    scgi_temp_path {folder}/scgi;\n"
        f"    access_log {folder}/default-access.log;\n"
        f"    include {site};\n"
        "}\n"
    )


@dataclass
class Nginx:
    https_url: str
    http_url: str
    access_log: Path
    error_log: Path
    cert: Path


@contextmanager
def run_nginx(folder: Path, upstream_port: int) -> Iterator[Nginx]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = make_certificate(folder)
    https_port, http_port = free_port(), free_port()
    access_log, error_log = folder / "access.log", folder / "error.log"
    site = folder / "dailypapers.conf"
    site.write_text(
        render_site_config(
            https_port=https_port,
            http_port=http_port,
            upstream_port=upstream_port,
            cert=cert,
            key=key,
            access_log=access_log,
        )
    )
    conf = folder / "nginx.conf"
    conf.write_text(main_config(folder, site))
    command = [NGINX, "-p", str(folder), "-c", str(conf), "-e", str(error_log)]
    directives = f"daemon off; pid {folder}/nginx.pid;"
    check = subprocess.run([*command, "-t", "-g", directives], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([*command, "-g", directives], stderr=subprocess.PIPE)
    try:
        wait_until(lambda: _listening(https_port), "nginx listening", timeout=20)
        yield Nginx(
            https_url=f"https://localhost:{https_port}",
            http_url=f"http://127.0.0.1:{http_port}",
            access_log=access_log,
            error_log=error_log,
            cert=cert,
        )
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Served:
    url: str
    port: int
    log: Path  # stderr: the log records
    metrics_dir: Path
    process: subprocess.Popen[bytes]


@contextmanager
def run_serve(
    data_dir: Path,
    log: Path,
    *,
    workers: int,
    metrics_dir: Path,
    env: Mapping[str, str],
) -> Iterator[Served]:
    """`dailypapers serve` in its own process group, until the block ends."""
    port = free_port()
    command = [
        sys.executable, "-m", "dailypapers", "serve", "--port", str(port),
        "--workers", str(workers), "--metrics-dir", str(metrics_dir),
    ]  # fmt: skip
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")},
        "DAILYPAPERS_DATA_DIR": str(data_dir),
        **env,
    }
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with log.open("wb") as err, log.with_suffix(".stdout").open("wb") as out:
        process = subprocess.Popen(
            command, env=full_env, stdout=out, stderr=err, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _healthy(url, process), "dailypapers serve answering", timeout=90)
        yield Served(url=url, port=port, log=log, metrics_dir=metrics_dir, process=process)
    finally:
        _stop(process)


def _healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"dailypapers serve exited with {process.returncode}")
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    # Whatever the supervisor left behind (its workers) goes too: the group is ours alone.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def nginx_available() -> bool:
    return Path(NGINX).is_file() and shutil.which("openssl") is not None
