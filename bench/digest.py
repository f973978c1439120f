"""Digest benchmark: `digest send` for 10,000 confirmed subscribers against an SMTP sink on
loopback (a minimal asyncio SMTP server in its own process, so it does not share the sender's
GIL; it counts messages that carry a Message-ID without parsing them).

Half the subscribers are personalised, in four equal groups: keywords, followed authors, saved
searches (20 distinct queries) and "more like my upvotes" (an account with 5 upvotes, over the
sample's precomputed vectors). The store is SQLite with the bundled sample, built once (kept in
--store when given) and copied for each timed run. By default the run is done twice in one
invocation, DKIM off then on (a 2048-bit RSA key made with openssl). Writes
bench/results/digest.json and .md. Time it under the exclusive CPU lock:

    .venv/bin/python bench/digest.py --store /work/bench-cache/digest/s10000 --prepare
    flock -x /work/cpu.lock .venv/bin/python bench/digest.py --store /work/bench-cache/digest/s10000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from dailypapers.config import Settings
from dailypapers.digest.send import candidates_for
from dailypapers.domain import DigestPreferences
from dailypapers.ingest.importer import import_file
from dailypapers.search.embedder import MINILM_DIM, MINILM_ID
from dailypapers.search.paper_vectors import import_vectors
from dailypapers.services import build
from dailypapers.store.migrate import upgrade
from dailypapers.store.schema import saved_searches, subscribers, users, votes
from dailypapers.store.subscribers import preferences_json

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample"
RESULTS = REPO / "bench" / "results"
WEEK = date(2026, 11, 2)
TARGET_PER_SECOND = 200
SECRET = "bench-secret-key-0123456789abcdef-0123456789"
NOTE = """
How the send reaches this (it was 76.5 emails/s, 43.6 with DKIM): the MIME bytes are written
directly (`mail.message_bytes`) instead of through `EmailMessage` and its header policy; each
paper's item is rendered once per run and only the reason, the signed links and the number are
filled in per subscriber (`DigestRenderer`), with the HMAC keys prepared once (`LinkSigner`); a
batch reads feedback, saved searches and upvotes with one query each (paper vectors once per
run, similarity as one matrix product) and records its plans in one transaction;
MAIL/RCPT/DATA go out as one pipelined round trip, and the next digest is rendered while the
server answers the last one. Each message's ledger row is still
committed before the next message is sent, so the duplicate window stays one message wide (the
crash-safety tests check it). The sink is a minimal asyncio SMTP server in its own process
(`--sink aiosmtpd` runs aiosmtpd instead). With DKIM the bound is dkimpy's RSA signature in
pure Python (several ms per message); a C implementation (`cryptography`) would remove most of
it but is not a dependency.
"""


def _sink(port: int, counter: Any, ready: Any) -> None:
    """A minimal SMTP sink (its own process): EHLO/MAIL/RCPT/DATA/RSET/NOOP/QUIT, PIPELINING,
    the message read in bulk up to CRLF.CRLF and counted if it carries a Message-ID."""

    class Sink(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport, self.buffer, self.in_data = transport, b"", False
            transport.write(b"220 sink ESMTP\r\n")

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            replies = []
            while True:
                if self.in_data:
                    end = self.buffer.find(b"\r\n.\r\n")
                    if end < 0:
                        break
                    message, self.buffer = self.buffer[: end + 2], self.buffer[end + 5 :]
                    self.in_data = False
                    if b"\r\nMessage-ID: <" in message:
                        with counter.get_lock():
                            counter.value += 1
                        replies.append(b"250 2.0.0 accepted\r\n")
                    else:
                        replies.append(b"554 5.6.0 no Message-ID\r\n")
                    continue
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    break
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                verb = line[:4].upper()
                if verb == b"EHLO":
                    replies.append(b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n")
                elif verb == b"DATA":
                    self.in_data = True
                    replies.append(b"354 end with .\r\n")
                elif verb == b"QUIT":
                    self.transport.write(b"".join(replies) + b"221 bye\r\n")
                    self.transport.close()
                    return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    replies.append(b"250 OK\r\n")
            if replies:
                self.transport.write(b"".join(replies))

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def _aiosmtpd_sink(port: int, counter: Any, ready: Any) -> None:
    """The heavier alternative (--sink aiosmtpd): aiosmtpd, counting messages unparsed."""
    from aiosmtpd.controller import Controller

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Count(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    asyncio.run(asyncio.sleep(3_600))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _populate(services: Any, count: int) -> dict[str, int]:
    db = services.db
    upgrade(db)
    for name in ("hf_daily_papers.sample.jsonl.gz", "arxiv.sample.jsonl.gz"):
        import_file(db, SAMPLE / name, parse_in_subprocess=False)
    now = datetime.now(UTC)
    import_vectors(
        db,
        SAMPLE / "vectors.f16.npy",
        SAMPLE / "vectors.ids.txt",
        model_id=MINILM_ID,
        expected_model_id=MINILM_ID,
        expected_dim=MINILM_DIM,
        now=now,
    )
    papers = [c.paper for c in candidates_for(db, services.digest, "weekly", WEEK, now)]
    rng = random.Random(7)
    words = sorted({w for p in papers for w in p.title.split() if len(w) > 6 and w.isalpha()})
    authors = sorted({a for p in papers for a in p.authors})
    queries = [" ".join(rng.sample(words, 1)) for _ in range(20)]
    kinds = {"trending": 0, "keywords": 0, "authors": 0, "saved_search": 0, "upvotes": 0}
    groups = ["keywords", "authors", "saved_search", "upvotes"]
    rows, searches, voters = [], [], []
    old = datetime(2020, 1, 1, tzinfo=UTC)
    for n in range(count):
        kind = "trending" if n % 2 == 0 else groups[(n // 2) % 4]
        kinds[kind] += 1
        prefs = DigestPreferences()
        if kind == "keywords":
            prefs = DigestPreferences(keywords=tuple(rng.sample(words, 3)))
        elif kind == "authors":
            prefs = DigestPreferences(authors=tuple(rng.sample(authors, 5)))
        elif kind == "upvotes":
            prefs = DigestPreferences(more_like_upvotes=True)
        row: dict[str, Any] = {
            "id": n + 1,
            "email": f"s{n:05d}@bench.example.org",
            "frequency": "weekly",
            "status": "confirmed",
            "token_version": 1,
            "consent_at": now,
            "consent_ip": "192.0.2.1",
            "confirmed_at": now,
            "created_at": now,
            "bounce_count": 0,
            "preferences": preferences_json(prefs),
            "user_id": None,
        }
        if kind == "saved_search":
            searches.append(
                {"subscriber_id": n + 1, "query": rng.choice(queries), "created_at": now}
            )
        if kind == "upvotes":
            voters.append(n + 1)
            row["user_id"] = len(voters)
        rows.append(row)
    with db.write() as conn:
        conn.execute(
            insert(users),
            [
                {
                    "id": i,
                    "email": f"u{i}@bench.example.org",
                    "username": f"u{i}",
                    "created_at": old,
                }
                for i in range(1, len(voters) + 1)
            ],
        )
        conn.execute(insert(subscribers), rows)
        conn.execute(insert(saved_searches), searches)
        liked = [p.arxiv_id for p in papers]
        conn.execute(
            insert(votes),
            [
                {"user_id": u, "arxiv_id": a, "created_at": old}
                for u in range(1, len(voters) + 1)
                for a in rng.sample(liked, 5)
            ],
        )
    return kinds


def _prepare(store: Path, count: int) -> dict[str, int]:
    """The populated store (sample + `count` subscribers), built once into `store` and reused:
    each timed run works on a copy. Returns the subscriber groups."""
    marker = store / "groups.json"
    if marker.exists():
        saved: dict[str, Any] = json.loads(marker.read_text())
        if saved.get("subscribers") == count:
            return dict(saved["groups"])
    shutil.rmtree(store, ignore_errors=True)
    settings = Settings(
        data_dir=store / "data",
        base_url="https://papers.example.org",
        environment="development",
        log_level="WARNING",
    )
    services = build(settings)
    try:
        kinds = _populate(services, count)
        services.search_index  # noqa: B018  (build the keyword index saved searches need)
    finally:
        services.close()
    marker.write_text(json.dumps({"subscribers": count, "groups": kinds}))
    return kinds


def _run(store: Path, *, dkim: bool, sink_kind: str, profile: Path | None) -> dict[str, Any]:
    """One timed `digest send` over a copy of the store, with its own sink process."""
    tmp = Path(tempfile.mkdtemp(prefix="dp-digest-bench-"))
    shutil.copytree(store / "data", tmp / "data")
    port = _free_port()
    counter, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    target = _sink if sink_kind == "minimal" else _aiosmtpd_sink
    sink = multiprocessing.Process(target=target, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(10)
    key = None
    if dkim:
        key = tmp / "dkim.pem"
        subprocess.run(
            [
                *("openssl", "genpkey", "-algorithm", "RSA"),
                *("-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)),
            ],
            check=True,
            capture_output=True,
        )
    settings = Settings(
        dkim_private_key_file=key,
        data_dir=tmp / "data",
        base_url="https://papers.example.org",
        smtp_url=f"smtp://127.0.0.1:{port}",
        secret_key=SECRET,
        environment="development",
        log_level="WARNING",
        digest_batch_size=200,
    )
    services = build(settings)
    try:
        sender = services.digest_sender()
        services.search_index  # noqa: B018  (open the index before the clock starts)
        profiler = cProfile.Profile() if profile is not None else None
        cpu, started = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        report = sender.run("weekly", WEEK)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if profiler is not None and profile is not None:
            profiler.dump_stats(profile)
    finally:
        services.close()
        sink.terminate()
        sink.join(5)
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "dkim": dkim,
        "sent": report.sent,
        "quiet": report.quiet,
        "failed": report.failed + report.bounced + report.retried,
        "received_by_sink": counter.value,
        "seconds": round(seconds, 2),
        "sender_cpu_seconds": round(cpu, 2),
        "emails_per_second": round(report.sent / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument(
        "--store", type=Path, help="Keep the populated store here and reuse it (built if missing)."
    )
    parser.add_argument("--prepare", action="store_true", help="Only build the store, then exit.")
    parser.add_argument("--dkim", choices=("off", "on", "both"), default="both")
    parser.add_argument("--sink", choices=("minimal", "aiosmtpd"), default="minimal")
    parser.add_argument("--profile", type=Path, help="Write cProfile stats of the run(s) here.")
    parser.add_argument("--no-write", action="store_true", help="Print, do not write results.")
    args = parser.parse_args()
    scratch = None
    if args.store is None:
        scratch = Path(tempfile.mkdtemp(prefix="dp-digest-store-"))
    store = args.store or scratch
    assert store is not None
    started = time.perf_counter()
    kinds = _prepare(store, args.subscribers)
    setup_seconds = time.perf_counter() - started
    if args.prepare:
        print(json.dumps({"store": str(store), "groups": kinds}, indent=2))
        return
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.dkim]
    try:
        runs = [
            _run(
                store,
                dkim=dkim,
                sink_kind=args.sink,
                profile=args.profile.with_suffix(f".dkim-{'on' if dkim else 'off'}.prof")
                if args.profile
                else None,
            )
            for dkim in modes
        ]
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "subscribers": args.subscribers,
        "personalised": args.subscribers - kinds["trending"],
        "groups": kinds,
        "runs": runs,
        "setup_seconds": round(setup_seconds, 1),
        "backend": "sqlite",
        "sink": args.sink,
        "machine": f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}",
        "target_emails_per_second": TARGET_PER_SECOND,
    }
    print(json.dumps(result, indent=2))
    if not args.no_write:
        _write(result)


def _write(result: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "digest.json").write_text(json.dumps(result, indent=2) + "\n")
    kinds = result["groups"]
    rows = []
    for run in result["runs"]:
        verdict = "met" if run["emails_per_second"] >= TARGET_PER_SECOND else "missed"
        rows.append(
            f"| {'on (RSA 2048)' if run['dkim'] else 'off'} | {result['subscribers']:,} "
            f"| {result['personalised']:,} | {run['sent']:,} | {run['quiet']:,} "
            f"| {run['failed']} | {run['received_by_sink']:,} | {run['seconds']:.1f} "
            f"| {run['sender_cpu_seconds']:.1f} | **{run['emails_per_second']:,}** "
            f"| >= {TARGET_PER_SECOND}/s: {verdict} |"
        )
    table = "\n".join(rows)
    (RESULTS / "digest.md").write_text(
        f"""# Digest benchmark

{result["machine"]}; SQLite store with the bundled sample; one `Sender` (batch 200) over one
reused SMTP connection to a {result["sink"]} SMTP sink on loopback in its own process. Both rows
come from the same invocation (`bench/digest.py --dkim both`), each on a fresh copy of the store.

| DKIM | subscribers | personalised | sent | quiet | failed | sink got | seconds | sender CPU s \
| emails/s | target |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
{table}

Personalised groups: {kinds["keywords"]:,} keywords, {kinds["authors"]:,} followed authors,
{kinds["saved_search"]:,} saved searches (20 distinct queries), {kinds["upvotes"]:,} more like
my upvotes (5 upvotes each, sample vectors). "quiet" rows matched nothing new and were
recorded without a mail (`digest_quiet_mode = skip`).
"""
        + NOTE
    )


if __name__ == "__main__":
    main()
