"""Upvotes from the site's forms and the token API: one per user, exact counts, never cached stale
for the voter, refused for the signed out.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from dailypapers.store.schema import comments, papers
from tests.integration.community.support import Community, csrf_of
from tests.integration.web_server import HOSTILE_ID, sample_hf

SAMPLE = {record["arxiv_id"]: record for record in sample_hf()}
LATEST_DAY = max(record["daily_date"] for record in SAMPLE.values())
ON_HOME = sorted(a for a, r in SAMPLE.items() if r["daily_date"] == LATEST_DAY)
# The sample's newest day ("/" shows today instead once a test has submitted a paper).
DAY_PAGE = f"/papers/date/{LATEST_DAY}"


def _shown(community: Community, arxiv_id: str) -> int:
    with community.client() as client:
        return int(client.get(f"/api/papers/{arxiv_id}").json()["upvotes"])


def _change_seq(community: Community, arxiv_id: str) -> int:
    with community.db.read() as conn:
        return int(
            conn.execute(select(papers.c.change_seq).where(papers.c.arxiv_id == arxiv_id)).scalar()
        )


def test_a_signed_out_vote_is_refused_and_sent_to_sign_in(community: Community) -> None:
    arxiv_id = ON_HOME[0]
    before = _shown(community, arxiv_id)
    client = community.client()
    form = client.post(f"/papers/{arxiv_id}/upvote", data={"value": "1"})
    assert form.status_code == 303
    assert form.headers["location"] == f"/signin?next=/papers/{arxiv_id}"
    script = client.post(
        f"/papers/{arxiv_id}/upvote", data={"value": "1"}, headers={"Accept": "application/json"}
    )
    assert script.status_code == 401
    home = client.get(DAY_PAGE).text
    assert f'href="/signin?next=/papers/{arxiv_id}"' in home
    assert _shown(community, arxiv_id) == before
    assert community.local_votes(arxiv_id) == 0


def test_a_double_vote_counts_once_and_the_voter_sees_it_at_once(community: Community) -> None:
    arxiv_id = ON_HOME[1]
    baseline = int(SAMPLE[arxiv_id]["upvotes"])
    seq = _change_seq(community, arxiv_id)
    client = community.sign_in()
    # A signed-out reader warms the shared list cache (30 s) with the count before the vote.
    assert f'<span class="count">{baseline}</span>' in community.client().get(DAY_PAGE).text
    csrf = csrf_of(client)
    as_json = {"Accept": "application/json"}
    for _ in range(2):
        voted = client.post(
            f"/papers/{arxiv_id}/upvote", data={"csrf": csrf, "value": "1"}, headers=as_json
        )
        assert voted.status_code == 200
        assert voted.json() == {"id": arxiv_id, "upvoted": True, "upvotes": baseline + 1}
    assert community.local_votes(arxiv_id) == 1
    assert _shown(community, arxiv_id) == baseline + 1 == baseline + community.local_votes(arxiv_id)
    page = client.get(f"/papers/{arxiv_id}")
    assert page.headers["cache-control"] == "private, no-cache"
    assert re.search(
        r'aria-pressed="true"[^>]*>\s*<span aria-hidden="true">▲</span>\s*'
        r'(?:<span class="label">Upvoted</span>\s*)?'
        rf'<span class="count">{baseline + 1}</span>',
        page.text,
    )
    # The voter's list is rendered for them, not taken from that cache.
    assert f'<span class="count">{baseline + 1}</span>' in client.get(DAY_PAGE).text
    taken_back = client.post(
        f"/papers/{arxiv_id}/upvote", data={"csrf": csrf, "value": "0"}, headers=as_json
    )
    assert taken_back.json()["upvotes"] == baseline
    assert community.local_votes(arxiv_id) == 0
    assert _change_seq(community, arxiv_id) == seq  # votes never touch the papers row


def test_a_vote_without_script_redirects_back_to_the_page(community: Community) -> None:
    arxiv_id = ON_HOME[2]
    client = community.sign_in()
    voted = client.post(
        f"/papers/{arxiv_id}/upvote",
        data={"csrf": csrf_of(client), "value": "1"},
        headers={"Referer": f"{community.server.url}/trending"},
    )
    assert voted.status_code == 303
    assert voted.headers["location"] == "/trending"
    assert arxiv_id in client.get("/trending").text  # a fresh vote makes it trend


def test_api_tokens_upvote_and_are_revocable(community: Community) -> None:
    arxiv_id = HOSTILE_ID
    baseline = int(_shown(community, arxiv_id)) - community.local_votes(arxiv_id)
    client = community.sign_in()
    made = client.post("/account/tokens", data={"csrf": csrf_of(client), "name": "my script"})
    token = re.search(r'<code id="new-token">(dp_[^<]+)</code>', made.text).group(1)  # type: ignore[union-attr]
    api = community.client(Authorization=f"Bearer {token}")
    assert api.post(f"/api/papers/{arxiv_id}/upvote").json()["upvoted"] is True
    assert api.post(f"/api/papers/{arxiv_id}/upvote").json()["upvotes"] == baseline + 1
    assert community.client().post(f"/api/papers/{arxiv_id}/upvote").status_code == 401
    wrong = community.client(Authorization="Bearer dp_not-a-real-token")
    assert wrong.post(f"/api/papers/{arxiv_id}/upvote").status_code == 401
    assert api.delete(f"/api/papers/{arxiv_id}/upvote").json()["upvotes"] == baseline
    assert api.post("/api/papers/nonsense/upvote").status_code == 404
    account = client.get("/account").text
    assert "my script" in account
    token_id = re.search(r"/account/tokens/(\d+)/revoke", account).group(1)  # type: ignore[union-attr]
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf": csrf_of(client)})
    assert revoked.status_code == 303
    assert api.post(f"/api/papers/{arxiv_id}/upvote").status_code == 401


def test_deleting_an_account_keeps_its_votes_in_the_counts(community: Community) -> None:
    arxiv_id = ON_HOME[3]
    client = community.sign_in()
    csrf = csrf_of(client)
    client.post(f"/papers/{arxiv_id}/upvote", data={"csrf": csrf, "value": "1"})
    client.post(f"/papers/{arxiv_id}/comments", data={"csrf": csrf, "body": "my words, 4821"})
    assert "my words, 4821" in community.client().get(f"/papers/{arxiv_id}").text
    shown = _shown(community, arxiv_id)
    username = re.search(r'class="me" href="/account"[^>]*>@([^<]+)<', client.get("/").text)
    assert username is not None
    refused = client.post("/account/delete", data={"csrf": csrf, "confirm": "someone-else"})
    assert refused.status_code == 400
    gone = client.post("/account/delete", data={"csrf": csrf, "confirm": username.group(1)})
    assert gone.status_code == 200
    assert client.get("/account").status_code == 303
    assert _shown(community, arxiv_id) == shown
    assert community.local_votes(arxiv_id) == 1
    assert "my words, 4821" not in community.client().get(f"/papers/{arxiv_id}").text
    with community.db.read() as conn:
        assert (
            conn.execute(select(comments.c.body).where(comments.c.body.contains("4821"))).first()
            is None
        )
