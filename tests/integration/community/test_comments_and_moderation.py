"""Comments (safe markdown, edit, delete, report), paper links and moderation by an admin made
with `dailypapers admin grant`."""

from __future__ import annotations

import re

import httpx
from click.testing import CliRunner
from sqlalchemy import select

from dailypapers.cli import main
from dailypapers.store.schema import moderation_log, paper_link_changes
from tests.integration.community.support import Community, csrf_of, new_email
from tests.integration.web_server import sample_hf

SAMPLE = sample_hf()
PAPER = SAMPLE[10]["arxiv_id"]
HOSTILE_BODY = (
    "<script>alert('x')</script> and [x](javascript:alert(1)) and "
    "<img src=x onerror=alert(2)> but **bold** and [a link](https://example.org/ok)"
)


def _comment(client: httpx.Client, arxiv_id: str, body: str) -> httpx.Response:
    return client.post(f"/papers/{arxiv_id}/comments", data={"csrf": csrf_of(client), "body": body})


def _admin(community: Community) -> httpx.Client:
    email = new_email("admin")
    url = community.db.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        ["admin", "grant", email],
        env={"DAILYPAPERS_DATABASE_URL": url, "DAILYPAPERS_LOG_LEVEL": "WARNING"},
    )
    assert result.exit_code == 0, result.output
    assert "is now an admin" in result.output
    return community.sign_in(email)


def test_a_hostile_comment_renders_inert_and_counts(community: Community) -> None:
    arxiv_id = SAMPLE[11]["arxiv_id"]
    before = community.client().get(f"/api/papers/{arxiv_id}").json()["numComments"]
    client = community.sign_in()
    posted = _comment(client, arxiv_id, HOSTILE_BODY)
    assert posted.status_code == 303
    assert re.fullmatch(rf"/papers/{arxiv_id}#comment-\d+", posted.headers["location"])
    page = community.client().get(f"/papers/{arxiv_id}").text
    thread = page[page.index('<ol class="thread">') :]
    assert "<script>alert" not in thread and "&lt;script&gt;alert" in thread
    assert "<img" not in thread and 'href="javascript' not in thread.lower()
    assert "[x](javascript:alert(1))" in thread
    assert '<a href="https://example.org/ok" rel="nofollow ugc noopener">a link</a>' in thread
    assert "<strong>bold</strong>" in thread
    after = community.client().get(f"/api/papers/{arxiv_id}").json()["numComments"]
    assert after == before + 1
    for bad in ("", "   ", "x" * 10_001, "a\x00b"):
        assert _comment(client, arxiv_id, bad).status_code == 400
    assert (
        community.client().post(f"/papers/{arxiv_id}/comments", data={"body": "hi"}).status_code
        == 303
    )


def test_authors_edit_and_delete_their_own_comments_only(community: Community) -> None:
    author, other = community.sign_in(), community.sign_in()
    location = _comment(author, PAPER, "first take").headers["location"]
    comment_id = location.rsplit("-", 1)[1]
    form = author.get(f"/comments/{comment_id}/edit")
    assert form.status_code == 200 and "first take" in form.text
    assert other.get(f"/comments/{comment_id}/edit").status_code == 403
    edited = author.post(
        f"/comments/{comment_id}/edit", data={"csrf": csrf_of(author), "body": "second take"}
    )
    assert edited.status_code == 303
    page = community.client().get(f"/papers/{PAPER}").text
    assert "second take" in page and "first take" not in page and "edited" in page
    refused = other.post(f"/comments/{comment_id}/delete", data={"csrf": csrf_of(other)})
    assert refused.status_code == 403
    deleted = author.post(f"/comments/{comment_id}/delete", data={"csrf": csrf_of(author)})
    assert deleted.status_code == 303
    assert "second take" not in community.client().get(f"/papers/{PAPER}").text


def test_reports_reach_the_moderation_page_and_every_action_is_logged(
    community: Community,
) -> None:
    author, reader = community.sign_in(), community.sign_in()
    location = _comment(author, PAPER, "buy cheap pills at spam.example").headers["location"]
    comment_id = int(location.rsplit("-", 1)[1])
    reported = reader.post(
        f"/comments/{comment_id}/report", data={"csrf": csrf_of(reader), "reason": "spam"}
    )
    assert reported.status_code == 200 and "moderators" in reported.text
    assert reader.get("/moderation").status_code == 403
    assert community.client().get("/moderation").status_code == 303
    admin = _admin(community)
    page = admin.get("/moderation").text
    assert "buy cheap pills" in page and "Reasons: spam" in page
    count_before = community.client().get(f"/api/papers/{PAPER}").json()["numComments"]
    csrf = csrf_of(admin, "/moderation")
    deleted = admin.post(f"/moderation/comments/{comment_id}/delete", data={"csrf": csrf})
    assert deleted.status_code == 303
    assert community.client().get(f"/api/papers/{PAPER}").json()["numComments"] == count_before - 1
    assert "buy cheap pills" not in admin.get("/moderation").text.split('id="log-title"')[0]
    hidden = admin.post("/moderation/papers", data={"csrf": csrf, "arxiv_id": PAPER, "hidden": "1"})
    assert hidden.status_code == 303
    day = SAMPLE[10]["daily_date"]
    listed = community.client().get(f"/api/daily_papers?date={day}").json()
    assert PAPER not in {entry["paper"]["id"] for entry in listed}
    admin.post("/moderation/papers", data={"csrf": csrf, "arxiv_id": PAPER, "hidden": "0"})
    with community.db.read() as conn:
        actions = [
            row.action
            for row in conn.execute(
                select(moderation_log.c.action).where(
                    moderation_log.c.target.in_([PAPER, f"comment {comment_id}"])
                )
            )
        ]
    assert sorted(actions) == ["delete-comment", "hide-paper", "unhide-paper"]


def test_a_suspended_user_is_locked_out(community: Community) -> None:
    email = new_email("troll")
    troll = community.sign_in(email)
    username = re.search(r'class="me" href="/account"[^>]*>@([^<]+)<', troll.get("/").text)
    assert username is not None
    stale_csrf = csrf_of(troll)
    link = community.request_link(community.client(), email)  # a link asked for before
    admin = _admin(community)
    suspended = admin.post(
        "/moderation/users",
        data={
            "csrf": csrf_of(admin, "/moderation"),
            "username": username.group(1),
            "suspended": "1",
        },
    )
    assert suspended.status_code == 303
    assert troll.get("/account").status_code == 303  # the session ended
    vote = troll.post(f"/papers/{PAPER}/upvote", data={"csrf": stale_csrf, "value": "1"})
    assert vote.status_code == 303 and vote.headers["location"].startswith("/signin")
    assert community.follow_link(community.client(), link).status_code == 403
    fresh = community.client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', fresh.get("/signin").text).group(1)  # type: ignore[union-attr]
    asked = fresh.post("/signin", data={"email": email, "csrf": csrf})
    assert asked.status_code == 403 and "suspended" in asked.text
    with community.db.read() as conn:
        logged = (
            conn.execute(
                select(moderation_log.c.action).where(
                    moderation_log.c.target == f"user {username.group(1)}"
                )
            )
            .scalars()
            .all()
        )
    assert logged == ["suspend-user"]


def test_the_submitter_or_an_admin_sets_a_papers_links_and_changes_are_logged(
    community: Community,
) -> None:
    arxiv_id = "2606.32036"
    submitter, stranger = community.sign_in(), community.sign_in()
    assert (
        submitter.post(
            "/submit", data={"csrf": csrf_of(submitter, "/submit"), "paper": arxiv_id}
        ).status_code
        == 303
    )
    assert "Edit code and project links" in submitter.get(f"/papers/{arxiv_id}").text
    assert "Edit code and project links" not in stranger.get(f"/papers/{arxiv_id}").text
    links = {"code_url": "https://github.com/example/code", "project_url": ""}
    refused = stranger.post(f"/papers/{arxiv_id}/links", data={"csrf": csrf_of(stranger), **links})
    assert refused.status_code == 403
    bad = submitter.post(
        f"/papers/{arxiv_id}/links",
        data={"csrf": csrf_of(submitter), "code_url": "javascript:alert(1)", "project_url": ""},
    )
    assert bad.status_code == 400
    saved = submitter.post(f"/papers/{arxiv_id}/links", data={"csrf": csrf_of(submitter), **links})
    assert saved.status_code == 303
    assert (
        community.client().get(f"/api/papers/{arxiv_id}").json()["githubRepo"] == links["code_url"]
    )
    admin = _admin(community)
    admin.post(
        f"/papers/{arxiv_id}/links",
        data={
            "csrf": csrf_of(admin),
            "code_url": links["code_url"],
            "project_url": "https://p.example",
        },
    )
    with community.db.read() as conn:
        changes = conn.execute(
            select(paper_link_changes.c.field, paper_link_changes.c.new_value)
            .where(paper_link_changes.c.arxiv_id == arxiv_id)
            .order_by(paper_link_changes.c.id)
        ).all()
    assert [tuple(c) for c in changes] == [
        ("code_url", "https://github.com/example/code"),
        ("project_url", "https://p.example"),
    ]
