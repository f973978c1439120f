"""Personalised digests: keywords in and out, categories, followed authors, saved searches and
"more like my upvotes", each item with its reason line; 👍, 👎 and mute tune the next digest."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np

from dailypapers.digest.send import candidates_for
from dailypapers.domain import Paper
from dailypapers.services import Services
from dailypapers.store import subscribers as store
from dailypapers.store.users import ensure_user
from dailypapers.store.vectors import StoredVector, upsert_paper_vectors
from dailypapers.store.votes import add_vote
from tests.integration.digest.support import ScriptedSink, add_confirmed, sender

WEEK = date(2026, 11, 2)


def _candidates(services: Services) -> list[Paper]:
    found = candidates_for(services.db, services.digest, "weekly", WEEK, datetime.now(UTC))
    return [c.paper for c in found]


def _word(paper: Paper, others: list[Paper]) -> str:
    """A word of `paper`'s title found in no other candidate's title or abstract."""
    rest = " ".join(f"{p.title} {p.abstract}" for p in others if p is not paper).lower()
    words = sorted(set(re.findall(r"[A-Za-z]{6,}", paper.title)), key=len, reverse=True)
    for word in words:
        if not re.search(rf"(?<!\w){word.lower()}(?!\w)", rest):
            return str(word)
    raise AssertionError(f"no distinctive word in {paper.title!r}")


def _items(text: str) -> list[tuple[str, str]]:
    """(arxiv id, reason) per item of a digest's text part."""
    ids = re.findall(r"/papers/([^\s]+)", text)
    reasons = re.findall(r"Why: ([^\r\n]+)", text)
    return list(zip(ids, reasons, strict=True))


def test_each_rule_selects_its_papers_with_a_reason_line(
    services: Services, sink: ScriptedSink
) -> None:
    papers = _candidates(services)
    by_keyword, by_author, by_search, excluded = papers[3], papers[7], papers[11], papers[0]
    keyword, search_word = _word(by_keyword, papers), _word(by_search, papers)
    author = by_author.authors[-1]
    sid = add_confirmed(
        services,
        "picky@example.org",
        keywords=(keyword,),
        authors=(author,),
        exclude=(_word(excluded, papers),),
    )
    with services.db.write() as conn:
        store.add_saved_search(
            conn, search_word, subscriber_id=sid, user_id=None, now=datetime.now(UTC)
        )
    plain = add_confirmed(services, "plain@example.org")
    assert plain != sid
    sender(services).run("weekly", WEEK)
    items = dict(_items(sink.wait_for("picky@example.org").text))
    assert items[by_keyword.arxiv_id] == f"Matches your keyword “{keyword}”"
    assert items[by_author.arxiv_id] == f"By {author}, whom you follow"
    assert items[by_search.arxiv_id] == f"Matches your saved search “{search_word}”"
    assert excluded.arxiv_id not in items
    everyone = _items(sink.wait_for("plain@example.org").text)
    assert everyone[0][0] == papers[0].arxiv_id and everyone[0][1].startswith("Trending: ")


def test_more_like_my_upvotes_uses_the_vectors_of_upvoted_papers(
    services: Services, sink: ScriptedSink
) -> None:
    papers = _candidates(services)
    liked, twin = papers[20], papers[5]
    rng = np.random.default_rng(7)
    base = rng.normal(size=384).astype(np.float32)
    now = datetime.now(UTC)
    rows = []
    for paper in papers:
        near = paper.arxiv_id in (liked.arxiv_id, twin.arxiv_id)
        vector = base + 0.05 * rng.normal(size=384) if near else rng.normal(size=384)
        rows.append(StoredVector(paper.arxiv_id, 384, vector.astype("<f4").tobytes(), "x"))
    with services.db.write() as conn:
        upsert_paper_vectors(conn, services.vectors.model_id, rows, now=now)
        user = ensure_user(conn, "fan@example.org", "fan", now)
        # An old vote: a vote today would move the sample's trending window to today.
        add_vote(conn, user.id, liked.arxiv_id, datetime(2020, 1, 1, tzinfo=UTC))
    sid = add_confirmed(services, "fan@example.org", more_like_upvotes=True)
    with services.db.write() as conn:
        from sqlalchemy import update

        from dailypapers.store.schema import subscribers

        conn.execute(update(subscribers).where(subscribers.c.id == sid).values(user_id=user.id))
    sender(services).run("weekly", WEEK)
    items = dict(_items(sink.wait_for("fan@example.org").text))
    title = " ".join(liked.title.split())
    assert items[twin.arxiv_id] == f"Similar to “{title}”, which you upvoted"
    assert len(items) <= 2, "only papers like the upvoted one are chosen"


def test_thumbs_up_down_and_mutes_tune_the_next_digest(services: Services) -> None:
    from dailypapers.digest.select import Candidate, Signals, select_items
    from dailypapers.domain import DigestPreferences

    papers = _candidates(services)
    candidates = [Candidate(p, 100.0 - i) for i, p in enumerate(papers)]
    signals = Signals(down_voted=frozenset({papers[0].arxiv_id}))
    chosen = select_items(candidates, DigestPreferences(), signals, top_n=3)
    assert [i.paper.arxiv_id for i in chosen] == [p.arxiv_id for p in papers[1:4]]
    muted = DigestPreferences(muted_topics=("cs.XX",))
    topical = [
        Candidate(replace(papers[0], primary_category="cs.XX"), 200.0),
        *candidates[1:],
    ]
    chosen = select_items(topical, muted, Signals(), top_n=1)
    assert chosen[0].paper.arxiv_id == papers[1].arxiv_id
    thumbs_up = Signals(liked={papers[5].arxiv_id: (0.9, "A paper you liked")})
    chosen = select_items(candidates, DigestPreferences(), thumbs_up, top_n=3)
    assert chosen[0].paper.arxiv_id == papers[5].arxiv_id
    assert chosen[0].reason == "Similar to “A paper you liked”, which you liked"
    assert chosen[1].reason.startswith("Trending: ")
