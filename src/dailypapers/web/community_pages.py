"""Upvotes, submissions, comments and paper links from the site's forms: parse, check the CSRF
token, one community call, then redirect (or JSON for the vote button's fetch).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from dailypapers.community import comments, links, submissions, votes
from dailypapers.domain import split_arxiv_id
from dailypapers.errors import DailyPapersError, NotFound, RateLimited
from dailypapers.web.deps import AppState, RowId, State, paper_url, render_html, utc_now
from dailypapers.web.errors import status_for
from dailypapers.web.forms import Form
from dailypapers.web.viewer import (
    SignedIn,
    Viewer,
    account_of,
    check_csrf,
    personal,
    referer_path,
    require_form,
    sign_in_first,
    wants_json,
)


def _arxiv_id(raw: str) -> str:
    try:
        return split_arxiv_id(raw)[0]
    except ValueError as exc:
        raise NotFound(f"{raw[:80]!r} is not an arXiv identifier") from exc


def upvote(request: Request, state: State, viewer: SignedIn, form: Form, arxiv_id: str) -> Response:
    """value=1 upvotes, value=0 takes the upvote back; sending the same value twice is harmless."""
    paper_id = _arxiv_id(arxiv_id)
    if viewer is None:
        return sign_in_first(request, paper_url(paper_id))
    check_csrf(request, state, viewer, form)
    result = votes.set_vote(
        state.services.db,
        viewer.account,
        paper_id,
        upvote=form.get("value", "1") != "0",
        now=utc_now(),
    )
    if wants_json(request):
        body = {"id": result.arxiv_id, "upvoted": result.upvoted, "upvotes": result.upvotes}
        return personal(JSONResponse(body))
    back = referer_path(request)
    return RedirectResponse(back if back != "/" else paper_url(paper_id), status_code=303)


def _submit_page(
    state: AppState, viewer: Viewer, *, status: int = 200, paper_input: str = "", error: str = ""
) -> Response:
    html = render_html(
        state,
        "submit.html",
        viewer=viewer,
        nav="submit",
        paper_input=paper_input,
        error=error,
        window_days=state.services.community.submission_window_days,
    )
    return personal(HTMLResponse(html, status_code=status))


def submit_page(
    request: Request, state: State, viewer: SignedIn, paper: Annotated[str, Query()] = ""
) -> Response:
    if viewer is None:
        return sign_in_first(request, "/submit")
    return _submit_page(state, viewer, paper_input=paper[:300])


def submit(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    if viewer is None:
        return sign_in_first(request, "/submit")
    check_csrf(request, state, viewer, form)
    raw = form.get("paper", "")
    try:
        done = submissions.submit_paper(
            state.services.db,
            state.services.open_arxiv,
            state.services.community,
            viewer.account,
            raw,
            now=utc_now(),
        )
    except DailyPapersError as exc:
        shown = raw[:300] if "\n" not in raw else ""
        response = _submit_page(
            state, viewer, status=_submission_status(exc), paper_input=shown, error=str(exc)
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return RedirectResponse(paper_url(done.paper.arxiv_id), status_code=303)


def _submission_status(exc: DailyPapersError) -> int:
    return status_for(exc)


def comment_post(
    request: Request, state: State, viewer: SignedIn, form: Form, arxiv_id: str
) -> Response:
    paper_id = _arxiv_id(arxiv_id)
    if viewer is None:
        return sign_in_first(request, paper_url(paper_id) + "#comments")
    check_csrf(request, state, viewer, form)
    comment_id = comments.post_comment(
        state.services.db,
        state.services.community,
        viewer.account,
        paper_id,
        form.get("body", ""),
        now=utc_now(),
    )
    return RedirectResponse(f"{paper_url(paper_id)}#comment-{comment_id}", status_code=303)


def comment_edit_page(
    request: Request, state: State, viewer: SignedIn, comment_id: RowId
) -> Response:
    comment = comments.own_comment(state.services.db, account_of(viewer), comment_id)
    return personal(
        HTMLResponse(render_html(state, "comment_edit.html", viewer=viewer, comment=comment))
    )


def comment_edit(
    request: Request, state: State, viewer: SignedIn, form: Form, comment_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    comment = comments.edit_comment(
        state.services.db, me.account, comment_id, form.get("body", ""), now=utc_now()
    )
    return RedirectResponse(f"{paper_url(comment.arxiv_id)}#comment-{comment_id}", status_code=303)


def comment_delete(
    request: Request, state: State, viewer: SignedIn, form: Form, comment_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    comment = comments.delete_own_comment(state.services.db, me.account, comment_id, now=utc_now())
    return RedirectResponse(f"{paper_url(comment.arxiv_id)}#comments", status_code=303)


def comment_report(
    request: Request, state: State, viewer: SignedIn, form: Form, comment_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    comment = comments.report_comment(
        state.services.db, me.account, comment_id, form.get("reason", ""), now=utc_now()
    )
    html = render_html(
        state,
        "notice.html",
        viewer=viewer,
        title="Thank you",
        message="The moderators will look at this comment.",
        link=("Back to the paper", f"{paper_url(comment.arxiv_id)}#comments"),
    )
    return personal(HTMLResponse(html))


def paper_links(
    request: Request, state: State, viewer: SignedIn, form: Form, arxiv_id: str
) -> Response:
    paper_id = _arxiv_id(arxiv_id)
    me = require_form(request, state, viewer, form)
    links.update_links(
        state.services.db,
        me.account,
        paper_id,
        code_url=form.get("code_url", ""),
        project_url=form.get("project_url", ""),
        now=utc_now(),
    )
    return RedirectResponse(paper_url(paper_id), status_code=303)
