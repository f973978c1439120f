"""What steers each subscriber's digest, read from the store for a batch at once, and the items
of a planned delivery rebuilt from its recorded (paper, reason) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dailypapers.digest.select import Candidate, Item, Signals
from dailypapers.domain import Paper, Subscriber
from dailypapers.store import Connection
from dailypapers.store import subscribers as store_subscribers
from dailypapers.store.featured_lists import list_papers_by_ids

__all__ = ["Item", "items_for", "signals_for"]


def signals_for(
    conn: Connection,
    subscribers: Sequence[Subscriber],
    sent: Mapping[int, set[str]],
    candidates: Sequence[Candidate],
) -> dict[int, Signals]:
    out: dict[int, Signals] = {}
    for subscriber in subscribers:
        feedback = store_subscribers.feedback_of(conn, subscriber.id) if subscriber else []
        down = frozenset(a for a, kind, _ in feedback if kind == "down")
        out[subscriber.id] = Signals(
            sent=frozenset(sent.get(subscriber.id, set())), down_voted=down
        )
    return out


def items_for(
    conn: Connection, planned: Sequence[tuple[str, str]], known: Mapping[str, Paper]
) -> list[Item]:
    """The planned items in their order, reading any paper not among this run's candidates."""
    missing = [a for a, _ in planned if a not in known]
    found = {p.arxiv_id: p for p in list_papers_by_ids(conn, missing)} if missing else {}
    items = []
    for arxiv_id, reason in planned:
        paper = known.get(arxiv_id) or found.get(arxiv_id)
        if paper is not None:
            items.append(Item(paper, reason))
    return items
