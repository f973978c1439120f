"""What steers each subscriber's digest, read for a batch at once, and the items of a planned
delivery rebuilt from its recorded (paper, reason) pairs.

Saved searches run once per distinct query text per run (keyword mode, the query's top
`MAX_LIMIT` matches), intersected with the period's candidates. "More like my upvotes" is the
cosine of each candidate's stored vector with the subscriber's upvoted papers' vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from dailypapers.digest.select import Candidate, Item, Signals
from dailypapers.domain import Paper, Subscriber
from dailypapers.store import Connection
from dailypapers.store import subscribers as store_subscribers
from dailypapers.store.featured_lists import list_papers_by_ids
from dailypapers.store.vectors import find_paper_vector
from dailypapers.store.votes import list_voted_papers

__all__ = ["Item", "SignalSource", "items_for"]

# The upvotes that count towards "more like my upvotes" (the most recent ones).
UPVOTES_CONSIDERED = 50
Vector = npt.NDArray[np.float32]


def _unit(raw: bytes, dim: int) -> Vector | None:
    width = len(raw) // max(dim, 1)
    vector = np.frombuffer(raw, dtype="<f2" if width == 2 else "<f4").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


class SignalSource:
    """Caches shared by every batch of one run: saved-search results and candidate vectors."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        *,
        search: Callable[[str], frozenset[str]] | None = None,
        model_id: str | None = None,
    ) -> None:
        self.candidate_ids = frozenset(c.paper.arxiv_id for c in candidates)
        self.search = search
        self.model_id = model_id
        self._saved: dict[str, frozenset[str]] = {}
        self._vectors: dict[str, Vector | None] = {}

    def _matches(self, query: str) -> frozenset[str]:
        if query not in self._saved:
            found = self.search(query) if self.search is not None else frozenset()
            self._saved[query] = found & self.candidate_ids
        return self._saved[query]

    def _vector(self, conn: Connection, arxiv_id: str) -> Vector | None:
        if self.model_id is None:
            return None
        if arxiv_id not in self._vectors:
            stored = find_paper_vector(conn, self.model_id, arxiv_id)
            self._vectors[arxiv_id] = _unit(stored.vector, stored.dim) if stored else None
        return self._vectors[arxiv_id]

    def _similar(self, conn: Connection, papers: Sequence[Paper]) -> dict[str, tuple[float, str]]:
        """candidate id -> (best cosine, title of that paper) against `papers`' vectors."""
        liked = [(p.title, v) for p in papers if (v := self._vector(conn, p.arxiv_id)) is not None]
        if not liked:
            return {}
        matrix = np.stack([v for _, v in liked])
        out: dict[str, tuple[float, str]] = {}
        for arxiv_id in sorted(self.candidate_ids):
            vector = self._vector(conn, arxiv_id)
            if vector is None:
                continue
            scores = matrix @ vector
            best = int(np.argmax(scores))
            out[arxiv_id] = (float(scores[best]), " ".join(liked[best][0].split()))
        return out

    def signals_for(
        self, conn: Connection, subscribers: Sequence[Subscriber], sent: Mapping[int, set[str]]
    ) -> dict[int, Signals]:
        out: dict[int, Signals] = {}
        for subscriber in subscribers:
            feedback = store_subscribers.feedback_of(conn, subscriber.id)
            queries = store_subscribers.saved_queries(conn, subscriber.id, subscriber.user_id)
            upvoted: list[Paper] = []
            if subscriber.preferences.more_like_upvotes and subscriber.user_id is not None:
                upvoted = list_voted_papers(conn, subscriber.user_id, limit=UPVOTES_CONSIDERED)
            thumbs = [a for a, kind, _ in feedback if kind == "up"][-UPVOTES_CONSIDERED:]
            out[subscriber.id] = Signals(
                sent=frozenset(sent.get(subscriber.id, set())),
                down_voted=frozenset(a for a, kind, _ in feedback if kind == "down"),
                saved={q: self._matches(q) for q in queries},
                similar=self._similar(conn, upvoted),
                liked=self._similar(conn, list_papers_by_ids(conn, thumbs)) if thumbs else {},
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
