"""Reading featured lists: ranges of featured days, their neighbours, trending candidates.

Returns domain values and plain tuples only; the ordering rules for each list live here.
The statements behind the site's hot paths (a featured period, its count and neighbours, papers by
id) are built once per shape with bound parameters and reused, like those in store.listings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, func, select

from dailypapers.domain import Paper
from dailypapers.store.aggregates import as_date, as_utc
from dailypapers.store.listings import paper_from_row, paper_select
from dailypapers.store.schema import featured, papers, votes

FeaturedOrder = Literal["upvotes", "newest"]


def _visible_featured(submitter: bool) -> ColumnElement[bool]:
    """Visible papers featured in [:start, :end] (and by :submitter, case-blind, when asked)."""
    clauses: list[ColumnElement[bool]] = [
        featured.c.featured_on >= bindparam("start"),
        featured.c.featured_on <= bindparam("end"),
        papers.c.hidden.is_(False),
    ]
    if submitter:
        clauses.append(func.lower(featured.c.submitter_name) == bindparam("submitter"))
    return and_(*clauses)


def _range_params(start: date, end: date, submitter: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"start": start, "end": end}
    if submitter:
        params["submitter"] = submitter.lower()
    return params


def _ordered(query: Select[Any], order: FeaturedOrder) -> Select[Any]:
    upvotes = query.selected_columns.upvotes
    if order == "newest":
        return query.order_by(
            featured.c.featured_on.desc(), upvotes.desc(), papers.c.arxiv_id.desc()
        )
    return query.order_by(upvotes.desc(), featured.c.featured_on.desc(), papers.c.arxiv_id.desc())


_FEATURED_PAGE = {
    (order, submitter): _ordered(paper_select().where(_visible_featured(submitter)), order)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
    for order in ("upvotes", "newest")
    for submitter in (False, True)
}
_FEATURED_COUNT = {
    submitter: select(func.count())
    .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
    .where(_visible_featured(submitter))
    for submitter in (False, True)
}


def list_featured(
    conn: Connection,
    start: date,
    end: date,
    *,
    submitter: str | None = None,
    order: FeaturedOrder = "upvotes",
    limit: int = 50,
    offset: int = 0,
) -> list[Paper]:
    """Featured papers with featured_on in [start, end], in `order`, one page."""
    params = _range_params(start, end, submitter) | {"limit": limit, "offset": offset}
    rows = conn.execute(_FEATURED_PAGE[order, bool(submitter)], params)
    return [paper_from_row(row) for row in rows]


def count_featured(
    conn: Connection, start: date, end: date, *, submitter: str | None = None
) -> int:
    params = _range_params(start, end, submitter)
    return int(conn.execute(_FEATURED_COUNT[bool(submitter)], params).scalar_one())


_FEATURED_PER_DAY = (
    select(featured.c.featured_on, func.count().label("n"))
    .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
    .where(_visible_featured(False))
    .group_by(featured.c.featured_on)
    .order_by(featured.c.featured_on)
)


def count_featured_per_day(conn: Connection, start: date, end: date) -> list[tuple[date, int]]:
    """(day, visible featured papers) for each day in [start, end] with any, oldest first."""
    rows = conn.execute(_FEATURED_PER_DAY, _range_params(start, end, None))
    counts = ((as_date(day), int(n)) for day, n in rows)
    return [(day, n) for day, n in counts if day is not None]


def _neighbour_select(where: ColumnElement[bool], order: Any) -> Select[Any]:
    return (
        select(featured.c.featured_on)
        .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
        .where(where, papers.c.hidden.is_(False))
        .order_by(order)
        .limit(1)
    )


_DAY_BEFORE = _neighbour_select(
    featured.c.featured_on < bindparam("day"), featured.c.featured_on.desc()
)
_DAY_AFTER = _neighbour_select(
    featured.c.featured_on > bindparam("day"), featured.c.featured_on.asc()
)


def featured_day_before(conn: Connection, day: date) -> date | None:
    """The newest day before `day` with a visible featured paper."""
    return as_date(conn.execute(_DAY_BEFORE, {"day": day}).scalar())


def featured_day_after(conn: Connection, day: date) -> date | None:
    """The oldest day after `day` with a visible featured paper."""
    return as_date(conn.execute(_DAY_AFTER, {"day": day}).scalar())


def newest_activity_at(conn: Connection) -> datetime | None:
    """The newest vote or featured day (as midnight UTC): trending's clock for a stale store."""
    newest_day = as_date(conn.execute(select(func.max(featured.c.featured_on))).scalar())
    newest_vote = conn.execute(select(func.max(votes.c.created_at))).scalar()
    candidates: list[datetime] = []
    if newest_day is not None:
        candidates.append(datetime.combine(newest_day, time.min, tzinfo=UTC))
    if newest_vote is not None:
        candidates.append(as_utc(newest_vote))
    return max(candidates) if candidates else None


_TRENDING_INPUTS = {
    submitter: select(featured.c.arxiv_id, featured.c.featured_on, featured.c.upvotes_baseline)
    .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
    .where(_visible_featured(submitter))
    for submitter in (False, True)
}


def trending_inputs(
    conn: Connection,
    start: date,
    end: date,
    *,
    submitter: str | None = None,
    votes_since: datetime | None = None,
) -> list[tuple[str, date, int, tuple[datetime, ...]]]:
    """(arxiv_id, featured_on, upvotes_baseline, local vote times) for featured papers in range.

    With `votes_since`, papers outside the range that got a local vote since then come too.
    """
    rows = conn.execute(
        _TRENDING_INPUTS[bool(submitter)], _range_params(start, end, submitter)
    ).all()
    found = {arxiv_id: (as_date(day), baseline) for arxiv_id, day, baseline in rows}
    if votes_since is not None and not submitter:
        recent = conn.execute(
            select(featured.c.arxiv_id, featured.c.featured_on, featured.c.upvotes_baseline)
            .select_from(featured.join(papers, papers.c.arxiv_id == featured.c.arxiv_id))
            .where(
                papers.c.hidden.is_(False),
                featured.c.arxiv_id.in_(
                    select(votes.c.arxiv_id).where(votes.c.created_at >= votes_since)
                ),
            )
        ).all()
        for arxiv_id, day, baseline in recent:
            found.setdefault(arxiv_id, (as_date(day), baseline))
    times = _vote_times(conn, list(found))
    return [
        (arxiv_id, day, int(baseline), tuple(times.get(arxiv_id, ())))
        for arxiv_id, (day, baseline) in found.items()
        if day is not None
    ]


def _vote_times(conn: Connection, ids: Sequence[str]) -> dict[str, list[datetime]]:
    times: dict[str, list[datetime]] = defaultdict(list)
    # Chunked: SQLite caps bound parameters per statement.
    for offset in range(0, len(ids), 500):
        chunk = ids[offset : offset + 500]
        for arxiv_id, created_at in conn.execute(
            select(votes.c.arxiv_id, votes.c.created_at).where(votes.c.arxiv_id.in_(chunk))
        ):
            times[arxiv_id].append(as_utc(created_at))
    return times


_PAPERS_BY_IDS = paper_select().where(
    papers.c.arxiv_id.in_(bindparam("ids", expanding=True)), papers.c.hidden.is_(False)
)


def list_papers_by_ids(conn: Connection, ids: Sequence[str]) -> list[Paper]:
    """Visible papers with these ids, in the order given; unknown or hidden ids are left out."""
    found: dict[str, Paper] = {}
    for offset in range(0, len(ids), 500):
        chunk = list(ids[offset : offset + 500])
        for row in conn.execute(_PAPERS_BY_IDS, {"ids": chunk}):
            paper = paper_from_row(row)
            found[paper.arxiv_id] = paper
    return [found[i] for i in ids if i in found]
