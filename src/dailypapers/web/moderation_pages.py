"""The moderation page (admins only): reported comments, hide a paper, suspend a user, the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from dailypapers.community import moderation
from dailypapers.web.deps import RowId, State, render_html, utc_now
from dailypapers.web.forms import Form
from dailypapers.web.viewer import SignedIn, account_of, personal, require_form

_NOTICES = {
    "paper": "The paper's visibility is updated.",
    "comment": "The comment is deleted.",
    "dismissed": "The reports are dismissed.",
    "user": "The user's standing is updated.",
}


def _done(what: str) -> Response:
    return RedirectResponse(f"/moderation?done={what}", status_code=303)


def moderation_page(
    request: Request, state: State, viewer: SignedIn, done: Annotated[str, Query()] = ""
) -> Response:
    overview = moderation.overview(state.services.db, account_of(viewer))
    html = render_html(
        state,
        "moderation.html",
        viewer=viewer,
        overview=overview,
        nav="moderation",
        notice=_NOTICES.get(done, ""),
    )
    return personal(HTMLResponse(html))


def moderation_paper(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    moderation.hide_paper(
        state.services.db,
        me.account,
        form.get("arxiv_id", "").strip(),
        hidden=form.get("hidden", "1") != "0",
        now=utc_now(),
    )
    return _done("paper")


def moderation_comment_delete(
    request: Request, state: State, viewer: SignedIn, form: Form, comment_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    moderation.delete_comment(state.services.db, me.account, comment_id, now=utc_now())
    return _done("comment")


def moderation_comment_dismiss(
    request: Request, state: State, viewer: SignedIn, form: Form, comment_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    moderation.dismiss_reports(state.services.db, me.account, comment_id, now=utc_now())
    return _done("dismissed")


def moderation_user(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    moderation.suspend_user(
        state.services.db,
        me.account,
        form.get("username", ""),
        suspended=form.get("suspended", "1") != "0",
        now=utc_now(),
    )
    return _done("user")
