"""What steers each subscriber's digest, read for a batch at once, and the items of a planned
delivery rebuilt from its recorded (paper, reason) pairs.

Saved searches run once per distinct query text per run (keyword mode, the query's top
`MAX_LIMIT` matches), intersected with the period's candidates. "More like my upvotes" is the
cosine of each candidate's stored vector with the subscriber's upvoted papers' vectors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from dailypapers.digest.select import Candidate, Item, Signals
from dailypapers.domain import Paper, Subscriber
from dailypapers.search.paper_vectors import Vector, closest_rows, stack_vectors, unit_vector
from dailypapers.store import Connection
from dailypapers.store import subscribers as store_subscribers
from dailypapers.store.featured_lists import list_papers_by_ids
from dailypapers.store.vectors import find_paper_vector

__all__ = ["Item", "SignalSource", "items_for"]

# The upvotes that count towards "more like my upvotes" (the most recent ones).
UPVOTES_CONSIDERED = 50


class SignalSource:
    """Caches shared by every batch of one run: saved-search results, paper vectors and the
    candidates' vector matrix. A batch's inputs are read with one query per kind (feedback,
    saved searches, upvotes, papers), not one per subscriber."""

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
        self._titles: dict[str, str] = {}
        # (candidate ids with a vector, in id order; their unit vectors as rows)
        self._matrix: tuple[list[str], Vector] | None = None

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
            self._vectors[arxiv_id] = unit_vector(stored) if stored else None
        return self._vectors[arxiv_id]

    def _candidate_matrix(self, conn: Connection) -> tuple[list[str], Vector]:
        if self._matrix is None:
            ids, rows = [], []
            for arxiv_id in sorted(self.candidate_ids):
                vector = self._vector(conn, arxiv_id)
                if vector is not None:
                    ids.append(arxiv_id)
                    rows.append(vector)
            matrix = stack_vectors(rows)
            self._matrix = (ids, matrix)
        return self._matrix

    def _similar(self, conn: Connection, liked_ids: Sequence[str]) -> dict[str, tuple[float, str]]:
        """candidate id -> (best cosine, title of that paper) against the liked papers' vectors."""
        liked = [
            (self._titles[a], v)
            for a in liked_ids
            if a in self._titles and (v := self._vector(conn, a)) is not None
        ]
        ids, candidates = self._candidate_matrix(conn)
        if not liked or not ids:
            return {}
        nearest = closest_rows([v for _, v in liked], candidates)
        return {
            arxiv_id: (cosine, liked[best][0])
            for arxiv_id, (best, cosine) in zip(ids, nearest, strict=True)
        }

    def _learn_titles(self, conn: Connection, arxiv_ids: set[str]) -> None:
        missing = [a for a in sorted(arxiv_ids) if a not in self._titles]
        for paper in list_papers_by_ids(conn, missing) if missing else ():
            self._titles[paper.arxiv_id] = " ".join(paper.title.split())

    def signals_for(
        self, conn: Connection, subscribers: Sequence[Subscriber], sent: Mapping[int, set[str]]
    ) -> dict[int, Signals]:
        ids = [s.id for s in subscribers]
        feedback = store_subscribers.feedback_for(conn, ids)
        queries = store_subscribers.saved_queries_for(
            conn, [(s.id, s.user_id) for s in subscribers]
        )
        voters = [
            s.user_id
            for s in subscribers
            if s.preferences.more_like_upvotes and s.user_id is not None
        ]
        upvoted = store_subscribers.upvoted_for(conn, voters, limit=UPVOTES_CONSIDERED)
        thumbs = {
            sid: [a for a, kind, _ in rows if kind == "up"][-UPVOTES_CONSIDERED:]
            for sid, rows in feedback.items()
        }
        self._learn_titles(
            conn, {a for v in upvoted.values() for a in v} | {a for t in thumbs.values() for a in t}
        )
        out: dict[int, Signals] = {}
        for subscriber in subscribers:
            mine = feedback[subscriber.id]
            voted = (
                upvoted.get(subscriber.user_id, [])
                if subscriber.preferences.more_like_upvotes and subscriber.user_id is not None
                else []
            )
            out[subscriber.id] = Signals(
                sent=frozenset(sent.get(subscriber.id, set())),
                down_voted=frozenset(a for a, kind, _ in mine if kind == "down"),
                saved={q: self._matches(q) for q in queries[subscriber.id]},
                similar=self._similar(conn, voted),
                liked=self._similar(conn, thumbs[subscriber.id]),
            )
        return out


def items_for(
    conn: Connection, planned: Sequence[tuple[str, str]], known: Mapping[str, Paper]
) -> list[Item]:
    """The planned items in their order, reading any paper not among this run's candidates."""
    return rebuild(planned, papers_by_ids(conn, [a for a, _ in planned], known))


def papers_by_ids(
    conn: Connection, arxiv_ids: Sequence[str], known: Mapping[str, Paper]
) -> dict[str, Paper]:
    """`known` plus whichever of `arxiv_ids` it lacks, read in one query."""
    missing = sorted({a for a in arxiv_ids if a not in known})
    found = dict(known)
    for paper in list_papers_by_ids(conn, missing) if missing else ():
        found[paper.arxiv_id] = paper
    return found


def rebuild(planned: Sequence[tuple[str, str]], papers: Mapping[str, Paper]) -> list[Item]:
    """The planned items in their order (a paper since hidden or deleted is left out)."""
    return [Item(papers[a], reason) for a, reason in planned if a in papers]
