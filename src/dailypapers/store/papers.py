"""Writing papers: batched, idempotent upserts of papers, authors, versions and featured listings.

Merge rule: a record replaces the stored text only when it is newer (see `_is_newer`: a higher
version, else a later `updated_at`); otherwise it only fills fields the store lacks. So importing
several sources, in any order and any number of times, settles on one state: a re-import writes
nothing and keeps each paper's change_seq.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, and_, case, func, literal_column, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from dailypapers.domain import PaperRecord, author_key
from dailypapers.store.bulk import execute_many
from dailypapers.store.schema import (
    authors,
    featured,
    paper_authors,
    paper_change_seq,
    paper_versions,
    papers,
)

# Keep IN-lists and multi-row VALUES under SQLite's 32,766 bound-parameter limit.
_IN_CHUNK = 5_000

# Overwritten by a newer record.
_REPLACED = ("title", "abstract", "authors")
# Overwritten by a newer record when it carries a value; otherwise only gaps are filled.
_MERGED = (
    "latest_version",
    "published_at",
    "updated_at",
    "primary_category",
    "comment",
    "journal_ref",
    "doi",
    "license",
    "code_url",
    "project_url",
)


@dataclass(frozen=True, slots=True)
class UpsertOutcome:
    papers_changed: int
    featured_changed: int


def next_change_seq(conn: Connection) -> int:
    """Take the change sequence value for one write transaction.

    PostgreSQL: a sequence, so concurrent writers never block here; they may commit out of order,
    which readers handle with an overlap window (DESIGN.md). SQLite: the caller holds the only
    write lock.
    """
    if conn.dialect.name == "postgresql":
        return int(conn.execute(select(paper_change_seq.next_value())).scalar_one())
    current = conn.execute(select(func.coalesce(func.max(papers.c.change_seq), 0))).scalar_one()
    return int(current) + 1


def upsert_papers(
    conn: Connection, records: Sequence[PaperRecord], *, now: datetime
) -> UpsertOutcome:
    """Write a batch inside the caller's transaction. Duplicate ids in the batch: the newest wins.

    Every row this call inserts or changes gets the same fresh change_seq, which is how the call
    finds out afterwards which papers changed.
    """
    batch = _newest_per_id(records)
    if not batch:
        return UpsertOutcome(0, 0)
    seq = next_change_seq(conn)
    execute_many(conn, _papers_upsert(conn), [_paper_row(r, seq, now) for r in batch])
    changed = {
        arxiv_id: json.loads(names)
        for arxiv_id, names in conn.execute(
            select(papers.c.arxiv_id, papers.c.authors).where(papers.c.change_seq == seq)
        )
    }
    if changed:
        _replace_author_links(conn, changed)
        _upsert_versions(conn, [r for r in batch if r.arxiv_id in changed])
    featured_changed = _upsert_featured(conn, [r for r in batch if r.featured], now)
    return UpsertOutcome(len(changed), featured_changed)


def _newest_per_id(records: Iterable[PaperRecord]) -> list[PaperRecord]:
    newest: dict[str, PaperRecord] = {}
    for record in records:
        seen = newest.get(record.arxiv_id)
        if seen is None or _is_newer(record, seen):
            newest[record.arxiv_id] = record
    return list(newest.values())


def _is_newer(record: PaperRecord, than: PaperRecord) -> bool:
    """The upsert's rule, for duplicates inside one batch.

    Versions decide when both are known and differ; otherwise a later `updated_at` does; a
    versioned record also beats an unversioned one when their dates cannot be compared. The rule is
    antisymmetric, so the order records arrive in never changes the result.
    """
    new_v, old_v = record.version, than.version
    if new_v is not None and old_v is not None and new_v != old_v:
        return new_v > old_v
    if record.updated_at is not None and than.updated_at is not None:
        return record.updated_at > than.updated_at
    return old_v is None and new_v is not None


def _paper_row(record: PaperRecord, seq: int, now: datetime) -> dict[str, Any]:
    return {
        "arxiv_id": record.arxiv_id,
        "latest_version": record.version,
        "title": record.title,
        "abstract": record.abstract,
        "authors": json.dumps(list(record.authors), ensure_ascii=False),
        "published_at": record.published_at,
        "updated_at": record.updated_at,
        "primary_category": record.primary_category,
        "categories": " ".join(record.categories),
        "comment": record.comment,
        "journal_ref": record.journal_ref,
        "doi": record.doi,
        "license": record.license,
        "code_url": record.code_url,
        "project_url": record.project_url,
        "change_seq": seq,
        "ingested_at": now,
    }


def _insert(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT; both share the same upsert API."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _papers_upsert(conn: Connection) -> Insert:
    stmt = _insert(conn, papers)
    new = stmt.excluded
    new_v, old_v = new.latest_version, papers.c.latest_version
    # Comparisons with NULL are unknown, which CASE and OR treat as false: no claim to be newer.
    is_newer = or_(
        and_(new_v.is_not(None), old_v.is_not(None), new_v != old_v, new_v > old_v),
        and_(
            or_(new_v.is_(None), old_v.is_(None), new_v == old_v),
            new.updated_at > papers.c.updated_at,
        ),
        and_(
            old_v.is_(None),
            new_v.is_not(None),
            or_(new.updated_at.is_(None), papers.c.updated_at.is_(None)),
        ),
    )
    merged: dict[str, ColumnElement[Any]] = {}
    for name in _REPLACED:
        merged[name] = case((is_newer, new[name]), else_=papers.c[name])
    for name in _MERGED:
        mine, theirs = papers.c[name], new[name]
        merged[name] = case(
            (is_newer, func.coalesce(theirs, mine)), else_=func.coalesce(mine, theirs)
        )
    incoming_categories = func.nullif(new.categories, literal_column("''"))
    merged["categories"] = case(
        (is_newer, func.coalesce(incoming_categories, papers.c.categories)),
        else_=func.coalesce(func.nullif(papers.c.categories, literal_column("''")), new.categories),
    )
    differs = [expr.is_distinct_from(papers.c[name]) for name, expr in merged.items()]

    return stmt.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[papers.c.arxiv_id],
        set_={**merged, "change_seq": new.change_seq, "ingested_at": new.ingested_at},
        where=or_(*differs),
    )


def _replace_author_links(conn: Connection, names_by_paper: dict[str, list[str]]) -> None:
    if conn.dialect.name == "postgresql":
        _replace_author_links_pg(conn, names_by_paper)
        return
    ids = list(names_by_paper)
    for chunk in _chunks(ids, _IN_CHUNK):
        conn.execute(paper_authors.delete().where(paper_authors.c.arxiv_id.in_(chunk)))
    all_names = sorted({name for names in names_by_paper.values() for name in names})
    author_ids: dict[str, int] = {}
    for chunk in _chunks(all_names, _IN_CHUNK):
        rows = conn.execute(select(authors.c.name, authors.c.id).where(authors.c.name.in_(chunk)))
        author_ids.update((name, int(author_id)) for name, author_id in rows)
    missing = [name for name in all_names if name not in author_ids]
    stmt = _insert(conn, authors).on_conflict_do_nothing(index_elements=[authors.c.name])
    execute_many(conn, stmt, [{"name": n, "name_key": author_key(n)} for n in missing])
    for chunk in _chunks(missing, _IN_CHUNK):
        rows = conn.execute(select(authors.c.name, authors.c.id).where(authors.c.name.in_(chunk)))
        author_ids.update((name, int(author_id)) for name, author_id in rows)
    links = [
        {"arxiv_id": arxiv_id, "position": position, "author_id": author_ids[name]}
        for arxiv_id, names in names_by_paper.items()
        for position, name in enumerate(names)
    ]
    execute_many(conn, paper_authors.insert(), links)


def _replace_author_links_pg(conn: Connection, names_by_paper: dict[str, list[str]]) -> None:
    """PostgreSQL: whole arrays per statement (unnest / ANY), a round trip per step, not per row."""
    conn.execute(
        text("DELETE FROM paper_authors WHERE arxiv_id = ANY(:ids)"), {"ids": list(names_by_paper)}
    )
    all_names = sorted({name for names in names_by_paper.values() for name in names})
    found = conn.execute(
        text("SELECT name, id FROM authors WHERE name = ANY(:names)"), {"names": all_names}
    )
    author_ids = {name: int(author_id) for name, author_id in found}
    missing = [name for name in all_names if name not in author_ids]
    if missing:
        conn.execute(
            text(
                "INSERT INTO authors (name, name_key) "
                "SELECT * FROM unnest(CAST(:names AS text[]), CAST(:keys AS text[])) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"names": missing, "keys": [author_key(n) for n in missing]},
        )
        found = conn.execute(
            text("SELECT name, id FROM authors WHERE name = ANY(:names)"), {"names": missing}
        )
        author_ids.update((name, int(author_id)) for name, author_id in found)
    papers_col, positions, ids = [], [], []
    for arxiv_id, names in names_by_paper.items():
        for position, name in enumerate(names):
            papers_col.append(arxiv_id)
            positions.append(position)
            ids.append(author_ids[name])
    conn.execute(
        text(
            "INSERT INTO paper_authors (arxiv_id, position, author_id) SELECT * FROM "
            "unnest(CAST(:papers AS text[]), CAST(:positions AS int[]), CAST(:ids AS int[]))"
        ),
        {"papers": papers_col, "positions": positions, "ids": ids},
    )


def _upsert_versions(conn: Connection, records: Sequence[PaperRecord]) -> None:
    rows = [
        {
            "arxiv_id": r.arxiv_id,
            "version": v.version,
            "submitted_at": v.submitted_at,
            "withdrawn": v.withdrawn,
        }
        for r in records
        for v in r.versions
    ]
    if not rows:
        return
    stmt = _insert(conn, paper_versions)
    stmt = stmt.on_conflict_do_update(
        index_elements=[paper_versions.c.arxiv_id, paper_versions.c.version],
        set_={
            "submitted_at": func.coalesce(
                stmt.excluded.submitted_at, paper_versions.c.submitted_at
            ),
            "withdrawn": stmt.excluded.withdrawn,
        },
    )
    execute_many(conn, stmt, rows)


def _upsert_featured(conn: Connection, records: Sequence[PaperRecord], now: datetime) -> int:
    rows = []
    for r in records:
        assert r.featured is not None
        rows.append(
            {
                "arxiv_id": r.arxiv_id,
                "featured_on": r.featured.featured_on,
                "submitter_name": r.featured.submitter_name,
                "upvotes_baseline": r.featured.upvotes_baseline,
                "comments_baseline": r.featured.comments_baseline,
                "source": "import",
                "created_at": now,
            }
        )
    if not rows:
        return 0
    stmt = _insert(conn, featured)
    new = stmt.excluded
    updated = {
        "featured_on": new.featured_on,
        "submitter_name": func.coalesce(new.submitter_name, featured.c.submitter_name),
        "upvotes_baseline": new.upvotes_baseline,
        "comments_baseline": new.comments_baseline,
    }

    stmt = stmt.on_conflict_do_update(
        index_elements=[featured.c.arxiv_id],
        set_=updated,
        where=or_(*(expr.is_distinct_from(featured.c[name]) for name, expr in updated.items())),
    )
    return execute_many(conn, stmt, rows)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
