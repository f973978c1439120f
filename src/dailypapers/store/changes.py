"""What the derived search index reads from the store: papers by change sequence, live upvote
counts, and papers by id for result pages. Read-only; it never writes.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    Integer,
    and_,
    bindparam,
    exists,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from dailypapers.domain import Paper
from dailypapers.store.engine import Database
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.schema import featured, papers, store_meta, votes

# Keep IN-lists under SQLite's bound-parameter limit.
_IN_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class PaperText:
    """The part of a paper the keyword index holds, with the change_seq it was read at.

    Kept here rather than in domain/: it is the store's answer to the index, not a concept
    any other layer handles.
    """

    arxiv_id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    published_at: datetime | None
    hidden: bool
    change_seq: int


SeqRange = tuple[int, int | None]  # inclusive bounds; None: no upper bound


def commits_in_change_seq_order(db: Database) -> bool:
    """Whether a reader can trust "greater than the last seen": true where writers serialise.

    SQLite has one writer, and takes max + 1 under its lock, so values become visible in order.
    PostgreSQL takes values from a sequence at write time and commits out of order.
    """
    return db.backend == "sqlite"


RESTORE_EPOCH = "restore_epoch"


def find_restore_epoch(conn: Connection) -> str | None:
    """The epoch `dailypapers restore` stamped last, or None (never restored, or older schema)."""
    if not inspect(conn).has_table(store_meta.name):
        return None
    value = conn.execute(
        select(store_meta.c.value).where(store_meta.c.key == RESTORE_EPOCH)
    ).scalar()
    return str(value) if value is not None else None


def max_change_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(papers.c.change_seq), 0))).scalar_one())


def list_paper_texts(
    conn: Connection,
    ranges: Sequence[SeqRange],
    *,
    after: tuple[int, str] | None = None,
    limit: int = 5_000,
) -> list[PaperText]:
    """Papers whose change_seq falls in any of `ranges`, hidden ones included, in (change_seq,
    arxiv_id) order, starting after the `after` key: page with the last row's key.
    """
    if not ranges:
        return []
    in_ranges: list[ColumnElement[bool]] = []
    for low, high in ranges:
        condition = papers.c.change_seq >= low
        in_ranges.append(
            condition if high is None else and_(condition, papers.c.change_seq <= high)
        )
    stmt = select(
        papers.c.arxiv_id,
        papers.c.title,
        papers.c.abstract,
        papers.c.authors,
        papers.c.categories,
        papers.c.published_at,
        papers.c.hidden,
        papers.c.change_seq,
    ).where(or_(*in_ranges))
    if after is not None:
        seq, arxiv_id = after
        stmt = stmt.where(
            papers.c.change_seq >= seq,
            or_(papers.c.change_seq > seq, papers.c.arxiv_id > arxiv_id),
        )
    stmt = stmt.order_by(papers.c.change_seq, papers.c.arxiv_id).limit(limit)
    return [
        PaperText(
            arxiv_id=arxiv_id,
            title=title,
            abstract=abstract,
            authors=tuple(json.loads(names)),
            categories=tuple(categories.split()),
            published_at=published_at,
            hidden=bool(hidden),
            change_seq=int(change_seq),
        )
        for (
            arxiv_id,
            title,
            abstract,
            names,
            categories,
            published_at,
            hidden,
            change_seq,
        ) in conn.execute(stmt)
    ]


def list_live_upvotes(conn: Connection, *, at_least: int = 1) -> dict[str, int]:
    """Shown upvotes (imported baseline plus local votes) of every paper with at least `at_least`.

    Read live on each search: votes do not bump change_seq, so the index cannot know them. Only
    featured or voted papers can have any, so the set is bounded by those, not by the corpus.
    """
    threshold = {"at_least": max(1, int(at_least))}
    found = dict(conn.execute(_UPVOTED_FEATURED, threshold).all())
    found.update(conn.execute(_UPVOTED_UNFEATURED, threshold).all())
    return found


def list_upvoted_ids(conn: Connection, *, at_least: int = 1) -> list[str]:
    """The papers `list_live_upvotes` returns, without their counts: a featured paper whose
    baseline alone reaches the threshold needs no vote count (votes only add to it)."""
    threshold = {"at_least": max(1, int(at_least))}
    # Each part comes back as one space-separated string (arXiv ids hold no spaces): a row per id
    # made 5,000 row objects a search, the allocations that set off most of the process's full
    # garbage collections (20-40 ms pauses landing on searches).
    ids: list[str] = []
    for statement in (_BASELINE_REACHES, _VOTES_REACH):
        joined = conn.execute(statement, threshold).scalar()
        if joined:
            ids.extend(joined.split(" "))
    return ids


def find_live_upvotes(conn: Connection, arxiv_ids: Collection[str]) -> dict[str, int]:
    """Shown upvotes of these papers (0 for those with none): a join on a small candidate set."""
    counts = dict.fromkeys(arxiv_ids, 0)
    ids = list(counts)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = {"ids": ids[start : start + _IN_CHUNK]}
        for arxiv_id, baseline in conn.execute(_BASELINES_OF, chunk).all():
            counts[arxiv_id] += int(baseline)
        for arxiv_id, local in conn.execute(_VOTES_OF, chunk).all():
            counts[arxiv_id] += int(local)
    return counts


def _local_votes(arxiv_id: ColumnElement[str]) -> ColumnElement[int]:
    return (
        select(func.count())
        .where(votes.c.arxiv_id == arxiv_id)
        .correlate(featured)
        .scalar_subquery()
    )


# The statements a search runs, built once with bound parameters: building a Core statement and
# computing its cache key costs more than SQLite takes to answer these.
_AT_LEAST = bindparam("at_least", type_=Integer)
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)
_SHOWN = featured.c.upvotes_baseline + _local_votes(featured.c.arxiv_id)
_UPVOTED_FEATURED = select(featured.c.arxiv_id, _SHOWN).where(_SHOWN >= _AT_LEAST)
_UPVOTED_UNFEATURED = (
    select(votes.c.arxiv_id, func.count())
    .where(~exists().where(featured.c.arxiv_id == votes.c.arxiv_id))
    .group_by(votes.c.arxiv_id)
    .having(func.count() >= _AT_LEAST)
)
_BASELINE_REACHES = select(func.aggregate_strings(featured.c.arxiv_id, " ")).where(
    featured.c.upvotes_baseline >= _AT_LEAST
)
_VOTES_REACHING = (
    select(votes.c.arxiv_id)
    .select_from(votes.outerjoin(featured, featured.c.arxiv_id == votes.c.arxiv_id))
    .where(func.coalesce(featured.c.upvotes_baseline, 0) < _AT_LEAST)
    .group_by(votes.c.arxiv_id)
    .having(func.max(func.coalesce(featured.c.upvotes_baseline, 0)) + func.count() >= _AT_LEAST)
    .subquery()
)
_VOTES_REACH = select(func.aggregate_strings(_VOTES_REACHING.c.arxiv_id, " "))
_BASELINES_OF = select(featured.c.arxiv_id, featured.c.upvotes_baseline).where(
    featured.c.arxiv_id.in_(_IDS)
)
_VOTES_OF = (
    select(votes.c.arxiv_id, func.count())
    .where(votes.c.arxiv_id.in_(_IDS))
    .group_by(votes.c.arxiv_id)
)
_FIND_PAPERS = paper_select().where(papers.c.arxiv_id.in_(_IDS), papers.c.hidden.is_(False))


def find_papers(conn: Connection, arxiv_ids: Collection[str]) -> dict[str, Paper]:
    """The visible papers among `arxiv_ids`, with shown counts, by id (missing ids left out)."""
    found: dict[str, Paper] = {}
    ids = list(arxiv_ids)
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        for row in conn.execute(_FIND_PAPERS, {"ids": chunk}).all():
            paper = paper_from_row(row)
            found[paper.arxiv_id] = paper
    return found
