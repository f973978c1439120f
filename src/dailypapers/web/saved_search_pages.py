"""Saved searches for signed-in readers ("Save this search" on the search page), and the
account page's way into its digest settings."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from dailypapers.community import saved_searches as saved
from dailypapers.digest import links
from dailypapers.digest.send import get_subscriber
from dailypapers.errors import InvalidRequest
from dailypapers.web.deps import AppState, State, render_html, utc_now
from dailypapers.web.forms import Form, row_id
from dailypapers.web.viewer import SignedIn, Viewer, personal, require_form, sign_in_first


def _list(state: AppState, viewer: Viewer, status: int = 200, **context: object) -> Response:
    searches = saved.list_saved(state.services.db, user_id=viewer.account.id)
    html = render_html(
        state,
        "saved_searches.html",
        viewer=viewer,
        searches=searches,
        nav="account",
        **{"error": "", "notice": "", **context},
    )
    return personal(HTMLResponse(html, status_code=status))


def saved_searches_page(request: Request, state: State, viewer: SignedIn) -> Response:
    if viewer is None:
        return sign_in_first(request, "/saved-searches")
    return _list(state, viewer)


def save_search(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    if viewer is None:
        return sign_in_first(request, "/saved-searches")
    me = require_form(request, state, viewer, form)
    try:
        query = saved.save(
            state.services.db, form.get("q", ""), now=utc_now(), user_id=me.account.id
        )
    except InvalidRequest as exc:
        return _list(state, me, 400, error=str(exc))
    return _list(state, me, notice=f"Saved “{query}”. Your digest will include its matches.")


def delete_search(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    search_id = row_id(form.get("id", ""))
    if search_id is not None:
        saved.delete(state.services.db, search_id, user_id=me.account.id)
    return RedirectResponse("/saved-searches", status_code=303)


def account_digest(request: Request, state: State, viewer: SignedIn) -> Response:
    """A signed-in reader's digest settings: the same page as the emailed manage link."""
    if viewer is None:
        return sign_in_first(request, "/account/digest")
    try:
        subscriber = get_subscriber(state.services.db, viewer.account.email or "")
    except InvalidRequest:
        html = render_html(
            state,
            "notice.html",
            viewer=viewer,
            title="No digest yet",
            message="Subscribe with the form at the bottom of any page; "
            "the confirmation link comes to your address.",
            link=None,
        )
        return personal(HTMLResponse(html))
    token = links.long_lived(state.secret, links.MANAGE, subscriber)
    return personal(RedirectResponse(f"/digest/manage?token={token}", status_code=303))
