"""Mixed traffic against a running dailypapers, and the check that nothing was lost.

Shared by bench/load.py (60 s at 64 connections, timed) and tests/integration/test_load.py (a
few seconds at 8 connections, correctness only). Readers browse day, week and month lists, open
paper pages, search and call the JSON API; signed-in voters set upvotes through the site's form
(session cookie + CSRF token, as the vote button's fetch does); visitors subscribe with the
footer form. Each voter belongs to one connection, so its requests are sequential and "the last
accepted toggle" of every (voter, paper) is well defined. At the end the store must hold, for
every (voter, paper), exactly the state the last accepted response reported, and every accepted
subscription.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import ssl
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import h11
from sqlalchemy import select

from dailypapers import tokens
from dailypapers.store import Database
from dailypapers.store import users as store_users
from dailypapers.store.schema import featured, papers, subscribers, votes

SEARCH_QUERIES = (
    "diffusion",
    "language model reasoning",
    "reinforcement learning",
    '"vision transformer"',
    "graph neural network",
    "speech recognition",
    "robot manipulation",
    "retrieval augmented generation",
    "quantization",
    "protein structure",
    "video generation",
    "mixture of experts",
    "benchmark evaluation -survey",
    "ti:attention",
    "contrastive learning",
    "code generation",
)
# The load is one client address sending far more than any reader would: lift the per-address
# limits above it (the limits stay on, so their bookkeeping is part of the load).
LOAD_SETTINGS = {
    "DAILYPAPERS_API_RATE_LIMIT_PER_MINUTE": "1000000000",
    "DAILYPAPERS_SEARCH_RATE_LIMIT_PER_MINUTE": "1000000000",
    "DAILYPAPERS_DIGEST_SUBSCRIBE_RATE_LIMIT_PER_HOUR_PER_IP": "1000000000",
    "DAILYPAPERS_LOG_LEVEL": "WARNING",
}
# Share of requests per kind: mostly reading, like a real site.
MIX = {
    "home": 8,
    "day": 12,
    "week": 5,
    "month": 4,
    "paper": 20,
    "search": 10,
    "api_daily": 8,
    "api_paper": 8,
    "api_search": 5,
    "upvote": 15,
    "subscribe": 5,
}


@dataclass(frozen=True, slots=True)
class Voter:
    user_id: int
    cookie: str
    csrf: str


@dataclass(frozen=True)
class Target:
    """What the traffic runs against: the base URL and what exists there."""

    base_url: str
    paper_ids: list[str]
    vote_paper_ids: list[str]
    days: list[str]
    voters: list[Voter]
    run_id: str


@dataclass
class LoadResult:
    seconds: float
    connections: int
    # route -> latencies (s) of answered requests; route -> status -> count
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    # route -> error kind ("timeout", "ConnectError", ...) -> count: no HTTP answer at all
    failures: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # (user_id, arxiv_id) -> the state the last accepted toggle reported; None: the last one
    # was not accepted, so the stored state is unknown (counted as an error anyway)
    expected_votes: dict[tuple[int, str], bool | None] = field(default_factory=dict)
    accepted_toggles: int = 0
    subscribed: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values()) + sum(
            sum(c.values()) for c in self.failures.values()
        )

    def errors(self) -> dict[str, int]:
        """5xx, 429, other unexpected statuses, and requests with no answer (timeouts)."""
        found: Counter[str] = Counter()
        for route, counts in self.statuses.items():
            for status, n in counts.items():
                if status >= 500:
                    found[f"{route} {status}"] += n
                elif status == 429:
                    found[f"{route} 429"] += n
                elif status >= 400:
                    found[f"{route} {status}"] += n
        for route, counts in self.failures.items():
            for kind, n in counts.items():
                found[f"{route} {kind}"] += n
        return dict(found)

    def summary(self) -> dict[str, Any]:
        routes: dict[str, Any] = {}
        for route in sorted(set(self.statuses) | set(self.failures)):
            times = sorted(self.latencies.get(route, []))
            routes[route] = {
                "requests": sum(self.statuses[route].values()) + sum(self.failures[route].values()),
                "req_per_s": round(len(times) / self.seconds, 1),
                "p50_ms": round(_percentile(times, 50) * 1000, 1) if times else None,
                "p99_ms": round(_percentile(times, 99) * 1000, 1) if times else None,
                "max_ms": round(times[-1] * 1000, 1) if times else None,
                "statuses": {str(k): v for k, v in sorted(self.statuses[route].items())},
                "failures": dict(self.failures[route]),
            }
        return {
            "seconds": round(self.seconds, 2),
            "connections": self.connections,
            "requests": self.requests,
            "req_per_s": round(self.requests / self.seconds, 1),
            "errors": self.errors(),
            "error_count": sum(self.errors().values()),
            "accepted_toggles": self.accepted_toggles,
            "voted_pairs": len(self.expected_votes),
            "subscriptions": len(self.subscribed),
            "routes": routes,
        }


def _percentile(sorted_values: list[float], pct: float) -> float:
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


def make_voters(db: Database, secret: str, count: int, *, run_id: str) -> list[Voter]:
    """`count` new accounts with a live session each, made through the store and token APIs
    exactly as a completed sign-in makes them (the cookie holds the random value, the store
    its sha256, the CSRF token is bound to the session)."""
    now = datetime.now(UTC)
    expires_at = now + timedelta(days=1)
    voters: list[Voter] = []
    with db.write() as conn:
        for n in range(count):
            account = store_users.ensure_user(
                conn, f"load-{run_id}-{n}@example.org", f"load-{run_id}-{n}", now
            )
            cookie = secrets.token_urlsafe(32)
            key = tokens.digest(cookie)
            store_users.insert_session(conn, key, account.id, now, expires_at)
            csrf = tokens.csrf_token(secret, key, expires_at=expires_at)
            voters.append(Voter(account.id, cookie, csrf))
    return voters


def make_target(
    db: Database,
    secret: str,
    base_url: str,
    *,
    voters: int,
    seed: int = 5,
    paper_sample: int = 2_000,
    vote_papers: int = 300,
) -> Target:
    """Pick papers and days from the store and create the voters."""
    with db.read() as conn:
        days = sorted({str(d)[:10] for d in conn.execute(select(featured.c.featured_on)).scalars()})
        featured_ids = sorted(conn.execute(select(featured.c.arxiv_id)).scalars())
        ids = sorted(
            conn.execute(select(papers.c.arxiv_id).where(papers.c.hidden.is_(False))).scalars()
        )
    rng = random.Random(seed)
    chosen = rng.sample(featured_ids, min(len(featured_ids), paper_sample // 2))
    chosen += rng.sample(ids, min(len(ids), paper_sample // 2))
    # Votes go to featured papers (what readers vote on), a few hundred so pairs repeat.
    vote_ids = rng.sample(featured_ids, min(len(featured_ids), vote_papers))
    run_id = uuid.uuid4().hex[:8]
    return Target(
        base_url=base_url.rstrip("/"),
        paper_ids=chosen,
        vote_paper_ids=vote_ids,
        days=days,
        voters=make_voters(db, secret, voters, run_id=run_id),
        run_id=run_id,
    )


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


class _KeepAlive:
    """One keep-alive HTTP/1.1 connection (h11 over asyncio streams), reopened after an error.

    Not httpx: at 64 connections its pool cost the client 5.6 ms of CPU per request on this
    2-core machine, so the client, not the server, set the figures (56 req/s where wrk got 600
    from the same server). This costs a fraction of that; the server sees the same requests.
    """

    def __init__(self, base_url: str, *, verify: bool) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.authority = parts.netloc
        self.tls: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self.tls = ssl.create_default_context()
            if not verify:
                self.tls.check_hostname = False
                self.tls.verify_mode = ssl.CERT_NONE
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.h11: h11.Connection | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """(status, body). Raises OSError or h11's errors; the connection is dropped then."""
        try:
            return await self._request(method, path, params, data, headers or {})
        except BaseException:
            self.close()
            raise

    async def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        data: dict[str, str] | None,
        headers: dict[str, str],
    ) -> tuple[int, bytes]:
        if self.writer is None or self.h11 is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls
            )
            self.h11 = h11.Connection(h11.CLIENT)
        target = path + ("?" + urlencode(params) if params else "")
        body = urlencode(data).encode() if data is not None else b""
        fields = [("Host", self.authority), *headers.items()]
        if data is not None:
            fields += [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Content-Length", str(len(body))),
            ]
        out = self.h11.send(h11.Request(method=method, target=target, headers=fields))
        out += self.h11.send(h11.Data(data=body)) if body else b""
        out += self.h11.send(h11.EndOfMessage()) or b""
        self.writer.write(out or b"")
        status, chunks = 0, []
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                received = await self.reader.read(65_536)
                self.h11.receive_data(received)
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionResetError("the server closed the connection")
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        else:
            self.close()
        return status, b"".join(chunks)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = self.h11 = None


class _Connection:
    """One simulated client: its own voters, its own sequence of requests."""

    def __init__(
        self,
        number: int,
        target: Target,
        result: LoadResult,
        rng: random.Random,
        record: bool,
        timeout_seconds: float,
    ) -> None:
        self.number = number
        self.timeout_seconds = timeout_seconds
        self.target = target
        self.result = result
        self.rng = rng
        self.record = record
        self.voters = target.voters[number :: max(1, result.connections)]
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        if not self.voters:
            self.weights[self.kinds.index("upvote")] = 0
        self.subscriptions = 0

    def _request(self) -> tuple[str, str, str, dict[str, Any]]:
        """(route label, method, path, keyword arguments of _KeepAlive.request)."""
        kind = self.rng.choices(self.kinds, self.weights)[0]
        t, rng = self.target, self.rng
        if kind == "home":
            return "/", "GET", "/", {}
        if kind == "day":
            return "/papers/date/{day}", "GET", f"/papers/date/{rng.choice(t.days)}", {}
        if kind == "week":
            return "/papers/week/{week}", "GET", f"/papers/week/{_week(rng.choice(t.days))}", {}
        if kind == "month":
            return "/papers/month/{month}", "GET", f"/papers/month/{rng.choice(t.days)[:7]}", {}
        if kind == "paper":
            return "/papers/{id}", "GET", f"/papers/{rng.choice(t.paper_ids)}", {}
        if kind == "search":
            return "/search?q=", "GET", "/search", {"params": {"q": rng.choice(SEARCH_QUERIES)}}
        if kind == "api_daily":
            return "/api/daily_papers", "GET", "/api/daily_papers", {"params": _date(rng, t)}
        if kind == "api_paper":
            return "/api/papers/{id}", "GET", f"/api/papers/{rng.choice(t.paper_ids)}", {}
        if kind == "api_search":
            params = {"q": rng.choice(SEARCH_QUERIES)}
            return "/api/papers/search", "GET", "/api/papers/search", {"params": params}
        if kind == "subscribe":
            self.subscriptions += 1
            email = f"sub-{t.run_id}-{self.number}-{self.subscriptions}@example.org"
            form = {"email": email, "frequency": rng.choice(("daily", "weekly"))}
            return "POST /digest/subscribe", "POST", "/digest/subscribe", {"data": form}
        return self._upvote()

    def _upvote(self) -> tuple[str, str, str, dict[str, Any]]:
        voter = self.rng.choice(self.voters)
        arxiv_id = self.rng.choice(self.target.vote_paper_ids)
        # Flip what this client believes; an unknown state (a failed toggle) counts as up.
        current = self.result.expected_votes.get((voter.user_id, arxiv_id), False)
        want = not current if current is not None else False
        return (
            "POST /papers/{id}/upvote",
            "POST",
            f"/papers/{arxiv_id}/upvote",
            {
                "data": {"value": "1" if want else "0", "csrf": voter.csrf},
                "headers": {
                    "Accept": "application/json",
                    "Cookie": f"dp_session={voter.cookie}",
                },
                "extensions": {"vote": (voter.user_id, arxiv_id, want)},
            },
        )

    async def run(self, client: _KeepAlive, deadline: float) -> None:
        while time.monotonic() < deadline:
            route, method, path, kwargs = self._request()
            vote = kwargs.pop("extensions", {}).get("vote")
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.timeout_seconds):
                    status, body = await client.request(method, path, **kwargs)
            except TimeoutError:
                self._failed(route, "timeout", vote)
                continue
            except (OSError, h11.ProtocolError) as exc:
                self._failed(route, type(exc).__name__, vote)
                continue
            elapsed = time.perf_counter() - started
            if self.record:
                self.result.latencies[route].append(elapsed)
            self.result.statuses[route][status] += 1
            if vote is not None:
                self._vote_answered(vote, status, body)
            elif route.startswith("POST /digest") and status == 200:
                self.result.subscribed.append(kwargs["data"]["email"])

    def _failed(self, route: str, kind: str, vote: tuple[int, str, bool] | None) -> None:
        self.result.failures[route][kind] += 1
        if vote is not None:
            self.result.expected_votes[vote[:2]] = None

    def _vote_answered(self, vote: tuple[int, str, bool], status: int, raw: bytes) -> None:
        user_id, arxiv_id, _ = vote
        if status != 200:
            self.result.expected_votes[(user_id, arxiv_id)] = None
            return
        body = json.loads(raw)
        assert body["id"] == arxiv_id, body
        self.result.expected_votes[(user_id, arxiv_id)] = bool(body["upvoted"])
        self.result.accepted_toggles += 1


def _date(rng: random.Random, target: Target) -> dict[str, str]:
    return {"date": rng.choice(target.days)}


async def _drive(
    target: Target,
    seconds: float,
    connections: int,
    timeout_seconds: float,
    seed: int,
    warmup_seconds: float,
    verify: bool,
) -> LoadResult:
    # A fixed pool: one keep-alive connection per simulated client.
    clients = [_KeepAlive(target.base_url, verify=verify) for _ in range(connections)]
    try:
        if warmup_seconds > 0:
            warm = LoadResult(seconds=warmup_seconds, connections=connections)
            warm_target = Target(
                target.base_url, target.paper_ids, target.vote_paper_ids, target.days, [], ""
            )
            deadline = time.monotonic() + warmup_seconds
            await asyncio.gather(
                *(
                    _Connection(
                        n, warm_target, warm, random.Random(seed - n), False, timeout_seconds
                    ).run(client, deadline)
                    for n, client in enumerate(clients)
                )
            )
        result = LoadResult(seconds=seconds, connections=connections)
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _Connection(n, target, result, random.Random(seed + n), True, timeout_seconds).run(
                    client, deadline
                )
                for n, client in enumerate(clients)
            )
        )
        result.seconds = time.monotonic() - started
    finally:
        for client in clients:
            client.close()
    return result


def drive(
    target: Target,
    *,
    seconds: float,
    connections: int,
    timeout_seconds: float = 5.0,
    seed: int = 1,
    warmup_seconds: float = 0.0,
    verify: bool = True,
) -> LoadResult:
    """Run the mix for `seconds` over a fixed pool of `connections` keep-alive connections.

    A warm-up (reads only, nothing recorded) fills the workers' caches first when asked.
    """
    return asyncio.run(
        _drive(target, seconds, connections, timeout_seconds, seed, warmup_seconds, verify)
    )


@dataclass(frozen=True)
class Check:
    compared_pairs: int
    lost_votes: list[tuple[int, str, bool | None, bool]]  # (user, paper, expected, stored)
    missing_subscriptions: list[str]

    @property
    def ok(self) -> bool:
        return not self.lost_votes and not self.missing_subscriptions


def check_store(db: Database, target: Target, result: LoadResult) -> Check:
    """Compare the store with what the accepted responses said: nothing lost, nothing extra."""
    voter_ids = [v.user_id for v in target.voters]
    with db.read() as conn:
        stored = {
            (int(u), str(p))
            for u, p in conn.execute(
                select(votes.c.user_id, votes.c.arxiv_id).where(votes.c.user_id.in_(voter_ids))
            )
        }
        emails = set(
            conn.execute(
                select(subscribers.c.email).where(subscribers.c.email.in_(result.subscribed))
            ).scalars()
        )
    lost = []
    known = {pair: state for pair, state in result.expected_votes.items() if state is not None}
    for (user_id, arxiv_id), state in known.items():
        if ((user_id, arxiv_id) in stored) != state:
            lost.append((user_id, arxiv_id, state, not state))
    # A vote in the store that no accepted response accounts for is as wrong as a lost one.
    for pair in stored - set(result.expected_votes):
        lost.append((*pair, False, True))
    missing = sorted(set(result.subscribed) - emails)
    return Check(len(known), lost, missing)


def format_table(summary: dict[str, Any], title: Callable[[str], str] = str) -> list[str]:
    """The markdown rows of one run: route, requests, req/s, p50, p99, errors."""
    rows = [
        "| route | requests | req/s | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for route, figures in summary["routes"].items():
        errors = sum(n for status, n in figures["statuses"].items() if int(status) >= 400) + sum(
            figures["failures"].values()
        )
        rows.append(
            f"| `{title(route)}` | {figures['requests']:,} | {figures['req_per_s']:,.1f} | "
            f"{figures['p50_ms']} | {figures['p99_ms']} | {errors} |"
        )
    rows.append(
        f"| **all** | {summary['requests']:,} | {summary['req_per_s']:,.1f} | | | "
        f"{summary['error_count']} |"
    )
    return rows
