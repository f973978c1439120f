"""Parity of `dailypapers schedule` with the commands it stands for, on both backends.

This file owns two claims, each checked on two identical stores side by side:

- one scheduled day's digests equal those of `dailypapers digest send --period daily --date D`,
  item for item and reason for reason, for a subscriber of each signal kind (keywords, followed
  authors, saved searches, "more like my upvotes", and plain trending), read from the delivery
  ledger and from the mails a real SMTP sink on loopback received;
- one scheduled pipeline (harvest -> feature -> index) against replayed arXiv OAI-PMH pages leaves
  the same papers, harvest cursor, keyword index and vectors as `dailypapers harvest` followed by
  `dailypapers index`, and features exactly the harvested papers the categories rule names, on the
  listing day `dailypapers status` reports (no command features a day: only the scheduler does).

Everything runs through the real CLI (`dailypapers.cli.main`, in this process through click's
runner), over real SQLite files and PostgreSQL databases. The store is read and seeded only
through `dailypapers.store`, so this file survives modules moving elsewhere in the package.
"""

from __future__ import annotations

import json
import re
import signal
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from dailypapers.cli import main
from dailypapers.domain import DigestPreferences, Paper
from dailypapers.store import Database, open_database
from dailypapers.store import subscribers as store_subscribers
from dailypapers.store.deliveries import delivery_for
from dailypapers.store.featured_lists import list_papers_by_ids
from dailypapers.store.harvests import HarvestCursor, list_cursors
from dailypapers.store.schema import digest_deliveries, featured, papers
from dailypapers.store.users import ensure_user
from dailypapers.store.vectors import StoredVector, find_vector_state, upsert_paper_vectors
from dailypapers.store.votes import add_vote
from tests.integration.replay_server import (
    OaiList,
    ReplayServer,
    Reply,
    oai_error,
    recent_oai_list,
)
from tests.integration.smtp_sink import SmtpSink

REPO = Path(__file__).resolve().parents[2]
SAMPLE_HF = REPO / "sample" / "hf_daily_papers.sample.jsonl.gz"
SECRET = "schedule-parity-secret-key-0123456789abcdef"
# The hub's embedding model and its width (what `services` stores paper vectors under).
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
FEATURE_CATEGORY = "physics.plasm-ph"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Digest = tuple[str, tuple[tuple[str, str], ...]]  # (ledger status, ((arxiv id, reason), ...))


@dataclass(frozen=True)
class Hub:
    """One hub as the CLI sees it: a database URL and a data directory."""

    url: str
    data_dir: Path

    def env(self, **more: str) -> dict[str, str]:
        return {
            "DAILYPAPERS_DATABASE_URL": self.url,
            "DAILYPAPERS_DATA_DIR": str(self.data_dir),
            "DAILYPAPERS_ENVIRONMENT": "development",
            "DAILYPAPERS_SECRET_KEY": SECRET,
            "DAILYPAPERS_LOG_LEVEL": "WARNING",
            "DAILYPAPERS_ARXIV_MIN_INTERVAL_SECONDS": "0.01",
            # Every digest mailed, an empty one as a short note, so each one can be read back.
            "DAILYPAPERS_DIGEST_QUIET_MODE": "note",
            "DAILYPAPERS_DIGEST_RETRY_BASE_SECONDS": "0.05",
            **more,
        }

    def open(self) -> Database:
        return open_database(self.url)


def cli(env: dict[str, str], *args: str) -> str:
    """Run `dailypapers ARGS` in this process; its stdout. Fails the test on a non-zero exit.

    `schedule`, `import` and `harvest` install SIGTERM/SIGINT handlers: put pytest's back.
    """
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert result.exit_code == 0, f"dailypapers {' '.join(args)} exited {result.exit_code}:\n" + (
        result.output
    )
    return result.stdout


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def twins(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Hub, Hub]]:
    """Two empty hubs on one backend: (the one `schedule` runs on, the one the commands run on)."""
    names = ("scheduled", "commands")
    if request.param == "sqlite":
        yield (
            Hub(f"sqlite:///{tmp_path / 'scheduled.sqlite3'}", tmp_path / "scheduled"),
            Hub(f"sqlite:///{tmp_path / 'commands.sqlite3'}", tmp_path / "commands"),
        )
        return
    admin_url: str = request.getfixturevalue("pg_admin_url")
    databases = [f"dp_parity_{name[:5]}_{uuid.uuid4().hex[:10]}" for name in names]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for database in databases:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        urls = [
            make_url(admin_url).set(database=d).render_as_string(hide_password=False)
            for d in databases
        ]
        yield Hub(urls[0], tmp_path / names[0]), Hub(urls[1], tmp_path / names[1])
    finally:
        with admin.connect() as conn:
            for database in databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


# 1. Digests: one scheduled day against `digest send` for that day.

SUBSCRIBERS = ("keywords", "authors", "saved", "upvotes", "trending")


def _address(kind: str) -> str:
    return f"{kind}@example.org"


@dataclass(frozen=True)
class Seeded:
    """What each signal subscriber must find in their digest (so parity cannot be vacuous)."""

    keyword: tuple[str, str]  # (arxiv id, the keyword)
    author: tuple[str, str]  # (arxiv id, the followed author)
    saved: tuple[str, str]  # (arxiv id, the saved query)
    twin: tuple[str, str]  # (arxiv id of the paper like the upvoted one, the upvoted title)


def _long_word(paper: Paper, taken: Sequence[str] = ()) -> str:
    words = sorted(set(re.findall(r"[A-Za-z]{7,}", paper.title)), key=lambda w: (-len(w), w))
    chosen = [w for w in words if w.lower() not in {t.lower() for t in taken}]
    assert chosen, f"no long word in {paper.title!r}"
    return str(chosen[0])


def _newest_day_papers(db: Database) -> list[Paper]:
    """The papers of the sample's newest featured day, most upvoted first: daily candidates."""
    with db.read() as conn:
        newest = conn.execute(
            select(featured.c.featured_on).order_by(featured.c.featured_on.desc())
        )
        day = newest.scalars().first()
        ids = conn.execute(
            select(featured.c.arxiv_id)
            .where(featured.c.featured_on == day)
            .order_by(featured.c.upvotes_baseline.desc(), featured.c.arxiv_id)
        ).scalars()
        return list_papers_by_ids(conn, list(ids))


def _seed(hub: Hub) -> Seeded:
    """The same subscribers, vote, saved search and paper vectors in `hub`, deterministically."""
    db = hub.open()
    try:
        top = _newest_day_papers(db)
        assert len(top) >= 5, "the sample's newest day has too few papers"
        keyword = _long_word(top[0])
        saved_query = _long_word(top[2], taken=[keyword])
        author = top[1].authors[-1]
        liked, twin = top[3], top[4]
        now = datetime.now(UTC)
        rng = np.random.default_rng(11)
        base = rng.normal(size=DIM)
        with db.read() as conn:
            all_ids = sorted(conn.execute(select(papers.c.arxiv_id)).scalars())
        rows = []
        for arxiv_id in all_ids:
            near = arxiv_id in (liked.arxiv_id, twin.arxiv_id)
            vector = base + 0.05 * rng.normal(size=DIM) if near else rng.normal(size=DIM)
            rows.append(StoredVector(arxiv_id, DIM, vector.astype("<f4").tobytes(), "parity"))
        prefs = {
            "keywords": DigestPreferences(keywords=(keyword,)),
            "authors": DigestPreferences(authors=(author,)),
            "saved": DigestPreferences(),
            "upvotes": DigestPreferences(more_like_upvotes=True),
            "trending": DigestPreferences(),
        }
        with db.write() as conn:
            upsert_paper_vectors(conn, MODEL_ID, rows, now=now)
            fan = ensure_user(conn, _address("upvotes"), "fan", now)
            # An old vote: a vote today would move the stale sample's trending window to today.
            add_vote(conn, fan.id, liked.arxiv_id, datetime(2020, 1, 1, tzinfo=UTC))
            for kind in SUBSCRIBERS:
                user_id = fan.id if kind == "upvotes" else None
                sub = store_subscribers.add_pending(
                    conn, _address(kind), "daily", user_id=user_id, now=now
                )
                store_subscribers.confirm(conn, sub.id, ip="192.0.2.1", now=now)
                store_subscribers.update_settings(
                    conn, sub.id, frequency="daily", prefs=prefs[kind]
                )
                if kind == "saved":
                    store_subscribers.add_saved_search(
                        conn, saved_query, subscriber_id=sub.id, user_id=None, now=now
                    )
    finally:
        db.dispose()
    return Seeded(
        keyword=(top[0].arxiv_id, keyword),
        author=(top[1].arxiv_id, author),
        saved=(top[2].arxiv_id, saved_query),
        twin=(twin.arxiv_id, " ".join(liked.title.split())),
    )


def _mail_items(body: str) -> tuple[tuple[str, str], ...]:
    """(arxiv id, reason) per item of a digest's text part."""
    ids = re.findall(r"/papers/(\S+)", body)
    reasons = re.findall(r"Why: ([^\r\n]+)", body)
    return tuple(zip(ids, reasons, strict=True))


def _digests(hub: Hub, period: str, sink: SmtpSink) -> dict[str, Digest]:
    """Each subscriber's digest for `period`: from the ledger, checked against the mail sent."""
    db = hub.open()
    try:
        with db.read() as conn:
            ledger: dict[str, Digest] = {}
            for kind in SUBSCRIBERS:
                subscriber = store_subscribers.find_subscriber(conn, _address(kind))
                assert subscriber is not None
                delivery = delivery_for(conn, subscriber.id, period)
                assert delivery is not None, f"no {period} delivery for {kind}"
                ledger[kind] = (delivery.status, tuple(delivery.paper_ids or ()))
    finally:
        db.dispose()
    for kind, (_, items) in ledger.items():
        [mail] = sink.to(_address(kind))
        assert _mail_items(mail.text) == items, f"{kind}: the mail is not the ledger's plan"
    return ledger


def _differences(by_schedule: dict[str, Digest], by_command: dict[str, Digest]) -> str:
    lines = ["`schedule` and `digest send` sent different digests:"]
    for kind in SUBSCRIBERS:
        if by_schedule[kind] != by_command[kind]:
            lines.append(f"  {kind}: schedule {by_schedule[kind]}")
            lines.append(f"  {' ' * len(kind)}  digest send {by_command[kind]}")
    return "\n".join(lines)


def _no_records(_: object) -> Reply:
    return Reply(body=oai_error("noRecordsMatch", "No records match."))


def test_a_scheduled_day_sends_the_digests_that_digest_send_sends(
    twins: tuple[Hub, Hub],
) -> None:
    scheduled, commands = twins
    with (
        ReplayServer(_no_records) as arxiv,
        SmtpSink() as scheduled_sink,
        SmtpSink() as commands_sink,
    ):
        envs: dict[Hub, dict[str, str]] = {}
        seeds: list[Seeded] = []
        for hub, sink in ((scheduled, scheduled_sink), (commands, commands_sink)):
            envs[hub] = env = hub.env(
                DAILYPAPERS_ARXIV_OAI_URL=f"{arxiv.url}/oai",
                DAILYPAPERS_SMTP_URL=sink.url,
                # The digest job fires whatever the hour: today's daily digests, in UTC.
                DAILYPAPERS_DIGEST_HOUR="0",
                DAILYPAPERS_DIGEST_TIME_ZONE="UTC",
            )
            cli(env, "migrate")
            cli(env, "import", "--quiet", str(SAMPLE_HF))
            seeds.append(_seed(hub))
            # The keyword index caught up with the seeding, as the scheduler's index job does.
            cli(env, "index", "--no-embed", "--quiet")
        said = cli(envs[scheduled], "schedule", "--once")
        assert "digests ok" in said, said
        db = scheduled.open()
        try:
            with db.read() as conn:
                periods = set(conn.execute(select(digest_deliveries.c.period)).scalars())
        finally:
            db.dispose()
        seeded = seeds[0]
        assert seeds[1] == seeded, "the two stores were not seeded alike"
        [period] = periods  # the scheduled day's daily period (plus no weekly one: none weekly)
        day = period.removeprefix("daily:")
        cli(envs[commands], "digest", "send", "--period", "daily", "--date", day)
        by_schedule = _digests(scheduled, period, scheduled_sink)
        by_command = _digests(commands, period, commands_sink)
    # The command's digests carry every signal (else the parity below would prove little).
    items = {kind: digest for kind, (_, digest) in by_command.items()}
    keyword_id, keyword = seeded.keyword
    assert (keyword_id, f"Matches your keyword “{keyword}”") in items["keywords"]
    author_id, author = seeded.author
    assert (author_id, f"By {author}, whom you follow") in items["authors"]
    saved_id, query = seeded.saved
    assert (saved_id, f"Matches your saved search “{query}”") in items["saved"]
    twin_id, liked_title = seeded.twin
    assert (twin_id, f"Similar to “{liked_title}”, which you upvoted") in items["upvotes"]
    assert items["trending"] and items["trending"][0][1].startswith("Trending: ")
    assert by_schedule == by_command, _differences(by_schedule, by_command)


# 2. Harvest, feature and index: one scheduled pipeline against the commands.


@pytest.fixture
def recent_list() -> OaiList:
    return recent_oai_list([3, 3, 3])


def _in_category(pages: OaiList, category: str) -> set[str]:
    """The replayed records listed in `category`, read from the pages themselves."""
    found = set()
    for page in pages.pages:
        for record in re.findall(rb"<record>.*?</record>", page, re.S):
            arxiv_id = re.search(rb"<id>(.*?)</id>", record)
            categories = re.search(rb"<categories>(.*?)</categories>", record)
            assert arxiv_id is not None and categories is not None
            if category in categories.group(1).decode().split():
                found.add(arxiv_id.group(1).decode())
    return found


@dataclass(frozen=True)
class State:
    """What the pipeline leaves behind, minus what only says when or in which order."""

    papers: tuple[Paper, ...]
    cursors: tuple[HarvestCursor, ...]
    index_documents: int
    index_freshness: str
    vectors: tuple[int, datetime | None]
    featured: dict[str, tuple[date, str]]


def _state(hub: Hub, env: dict[str, str]) -> tuple[State, dict[str, Any]]:
    status = json.loads(cli(env, "status", "--json"))
    index = re.fullmatch(r"generation (\d+), (\d+) papers, (.+)", status["index"])
    assert index is not None, status["index"]
    db = hub.open()
    try:
        with db.read() as conn:
            ids = sorted(conn.execute(select(papers.c.arxiv_id)).scalars())
            # Featuring bumps a paper's change counter; the featured list is compared on its own.
            stored = tuple(
                replace(p, featured=None, change_seq=0) for p in list_papers_by_ids(conn, ids)
            )
            rows = conn.execute(
                select(featured.c.arxiv_id, featured.c.featured_on, featured.c.source)
            )
            chosen = {str(a): (on, str(source)) for a, on, source in rows}
            vectors = find_vector_state(conn, MODEL_ID)
        # When a harvest ran is no part of where it stands.
        cursors = tuple(replace(c, started_at=EPOCH, updated_at=EPOCH) for c in list_cursors(db))
    finally:
        db.dispose()
    state = State(
        papers=stored,
        cursors=cursors,
        index_documents=int(index.group(2)),
        index_freshness=index.group(3),
        vectors=(vectors.count, vectors.last_created_at),
        featured=chosen,
    )
    return state, status


def test_a_scheduled_pipeline_leaves_what_harvest_and_index_leave(
    twins: tuple[Hub, Hub], recent_list: OaiList
) -> None:
    scheduled, commands = twins
    with ReplayServer(recent_list.respond) as arxiv:
        rules = {
            "DAILYPAPERS_FEATURE_RULE": "categories",
            "DAILYPAPERS_FEATURE_CATEGORIES": json.dumps([FEATURE_CATEGORY]),
        }
        env_s = scheduled.env(DAILYPAPERS_ARXIV_OAI_URL=f"{arxiv.url}/oai", **rules)
        env_c = commands.env(DAILYPAPERS_ARXIV_OAI_URL=f"{arxiv.url}/oai", **rules)
        cli(env_s, "migrate")
        cli(env_c, "migrate")
        said = cli(env_s, "schedule", "--once")
        served_to_schedule = len(arxiv.seen)
        cli(env_c, "harvest")
        cli(env_c, "index", "--no-embed", "--quiet")
        assert len(arxiv.seen) == 2 * served_to_schedule == 2 * len(recent_list.pages)
    by_schedule, status_s = _state(scheduled, env_s)
    by_commands, status_c = _state(commands, env_c)
    assert "harvest ok: 9 papers" in said, said
    assert [p.arxiv_id for p in by_commands.papers] == sorted(recent_list.all_ids)
    assert by_schedule.papers == by_commands.papers
    assert by_schedule.cursors == by_commands.cursors
    assert [c.status for c in by_commands.cursors] == ["ok"]
    assert (by_schedule.index_documents, by_schedule.index_freshness) == (
        by_commands.index_documents,
        by_commands.index_freshness,
    )
    assert (by_commands.index_documents, by_commands.index_freshness) == (9, "caught up")
    assert by_schedule.vectors == by_commands.vectors
    # No command features a day: the list must be what the rule names, on the listing day.
    listing_day = date.fromisoformat(status_c["listing day"])
    wanted = _in_category(recent_list, FEATURE_CATEGORY)
    assert wanted, f"no replayed record is in {FEATURE_CATEGORY}"
    assert by_schedule.featured == dict.fromkeys(wanted, (listing_day, "harvest"))
    assert f"feature ok: {len(wanted)} papers featured on {listing_day}" in said, said
    assert status_s["listing day"] == status_c["listing day"]
