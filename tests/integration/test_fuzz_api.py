"""Schemathesis over /openapi.json against the app under uvicorn on loopback.

The schemathesis command line runs every phase on every operation: coverage (boundary and
invalid values from each schema), fuzzing (Hypothesis-generated requests, valid and invalid)
and stateful runs that follow the document's OpenAPI links (a listed paper -> that paper, its
markdown, its similar papers -> upvote, take back). Every check runs but
`positive_data_acceptance`: some rules cannot be written in OpenAPI (one of date/week/month, a
real calendar day, a search feed needs words or a filter), so a request the schema allows may
still earn a documented 400 or 404. So: no 5xx, every status, content type, header and body as
documented, invalid input refused, and 405 answers name every allowed method.

The run is deterministic (--generation-deterministic) and bounded by examples per operation,
not by time. The store holds the bundled sample plus the hostile records of web_server.py so
listed ids resolve; a personal API token reaches the community operations; arXiv is a closed
loopback port, so submitting an unknown paper is a clean 503. Rate limits are off on this
server (they have their own tests), so the fuzzer reaches the handlers instead of a 429.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dailypapers.community.accounts import grant_admin
from dailypapers.community.api_tokens import create_api_token
from dailypapers.web.deps import utc_now
from tests.integration.web_server import LiveServer, build_services, populate, serve

SCHEMATHESIS = Path(sys.executable).with_name("st")
# Examples per operation and phase: about 40 s on 2 cores for the default run.
EXAMPLES = 25
# The longer variant, which CI runs too (marked slow).
SLOW_EXAMPLES = 200
# Every operation of the document, HTML-free: the JSON API, the feeds, markdown, health.
OPERATIONS = 14


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A server of its own (the fuzzer votes and submits), and an API token for it."""
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    services = build_services(
        tmp / "data",
        rate_limits=False,
        arxiv_api_url=f"http://127.0.0.1:{_closed_port()}/api/query",
        arxiv_min_interval_seconds=0,
        http_max_retries=0,
        http_timeout_seconds=2,
    )
    populate(services, tmp)
    account = grant_admin(services.db, "fuzzer@example.org", now=utc_now())
    token = create_api_token(services.db, account, "fuzzer", now=utc_now())
    with serve(services) as server:
        yield server, token
    services.close()


def _schemathesis(
    server: LiveServer, token: str, report: Path, examples: int
) -> tuple[dict[str, Any], str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{server.url}/openapi.json",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance",
        f"--header=Authorization: Bearer {token}",
        f"--max-examples={examples}",
        "--workers=1",
        "--generation-deterministic",
        "--request-timeout=30",
        "--no-color",
        "--report=json",
        f"--report-json-path={report}",
    ]
    # Run in the report's folder: schemathesis keeps a cache (.schemathesis/) where it runs.
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=1500, check=False, cwd=report.parent
    )
    output = done.stdout + done.stderr
    assert report.is_file(), output[-5000:]
    result: dict[str, Any] = json.loads(report.read_text())
    assert done.returncode == 0, output[-8000:]
    return result, output


def _assert_clean(result: dict[str, Any], output: str) -> None:
    summary = output[output.rfind("SUMMARY") - 40 :] if "SUMMARY" in output else output[-3000:]
    print(summary)
    assert result["complete"] and result["exit_code"] == 0, summary
    operations = result["operations"]
    assert operations["total"] == operations["tested"] == OPERATIONS, operations
    assert operations["errored"] == 0, summary
    assert result["failures"] == [] and result["errors"] == [], summary
    for phase in ("coverage", "fuzzing", "stateful"):
        assert result["phases"][phase]["status"] == "success", (phase, summary)
    cases = result["test_cases"]
    assert cases["with_failures"] == cases["errored"] == 0, cases
    assert cases["generated"] >= OPERATIONS * 20, cases


def test_every_operation_answers_as_documented(
    fuzz_server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = fuzz_server
    result, output = _schemathesis(server, token, tmp_path / "report.json", EXAMPLES)
    _assert_clean(result, output)
    # The links took the stateful phase from a list to the paper operations.
    assert "Stateful" in output and "Scenarios:" in output


@pytest.mark.slow
def test_every_operation_answers_as_documented_at_length(
    fuzz_server: tuple[LiveServer, str], tmp_path: Path
) -> None:
    server, token = fuzz_server
    result, output = _schemathesis(server, token, tmp_path / "report.json", SLOW_EXAMPLES)
    _assert_clean(result, output)
