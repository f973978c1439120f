"""Sign-in, sign-out and the account page: parse the form, one community call, render.

A GET on an emailed link (sign-in, new address) only shows a page whose button POSTs: mail
scanners open every link, and must not use them up.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from dailypapers.community import accounts, api_tokens
from dailypapers.community.overviews import account_view
from dailypapers.errors import (
    Conflict,
    DailyPapersError,
    InvalidRequest,
    RateLimited,
    SourceUnavailable,
)
from dailypapers.mail import Mailer
from dailypapers.web.deps import AppState, RowId, State, render_html, utc_now
from dailypapers.web.errors import status_for
from dailypapers.web.forms import Form
from dailypapers.web.middleware.limits import client_ip
from dailypapers.web.viewer import (
    SignedIn,
    Viewer,
    anonymous_form,
    check_csrf,
    clear_session_cookie,
    personal,
    require_form,
    set_anon_cookie,
    set_session_cookie,
    sign_in_first,
)

# No max_length: tokens.read_token refuses a token past MAX_TOKEN_CHARS before decoding it,
# and the refusal is the page that offers a fresh link (web/link_pages.py), not a bare 400.
Token = Annotated[str, Query()]


def _page(state: AppState, template: str, status: int = 200, **context: object) -> Response:
    return personal(HTMLResponse(render_html(state, template, **context), status_code=status))


def _mailer(state: AppState) -> Mailer:
    return state.services.mailer


def _signin_form(
    request: Request,
    state: AppState,
    *,
    next_path: str,
    email: str = "",
    error: str = "",
    status: int = 200,
) -> Response:
    form = anonymous_form(request, state)
    response = _page(
        state,
        "signin.html",
        status,
        csrf=form.csrf,
        next_path=next_path,
        email=email,
        error=error,
        nav="signin",
    )
    set_anon_cookie(request, response, form)
    return response


def signin_page(
    request: Request, state: State, viewer: SignedIn, next: Annotated[str, Query()] = "/"
) -> Response:
    next_path = accounts.local_path(next)
    if viewer is not None:
        return RedirectResponse(next_path, status_code=303)
    return _signin_form(request, state, next_path=next_path)


def signin_request(request: Request, state: State, form: Form) -> Response:
    next_path = accounts.local_path(form.get("next"))
    email = form.get("email", "")
    try:
        check_csrf(request, state, None, form)
        address = accounts.request_sign_in(
            state.services.db,
            _mailer(state),
            state.services.community,
            state.secret,
            email=email,
            ip=client_ip(request),
            next_path=next_path,
            now=utc_now(),
        )
    except DailyPapersError as exc:
        status = status_for(exc)
        shown = email if "\n" not in email and "\r" not in email else ""
        response = _signin_form(
            request, state, next_path=next_path, email=shown[:254], error=str(exc), status=status
        )
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        return response
    return _page(state, "signin_sent.html", email=address, next_path=next_path, nav="signin")


def signin_confirm_page(request: Request, state: State, token: Token = "") -> Response:
    link = accounts.read_sign_in_link(state.services.db, state.secret, token, now=utc_now())
    form = anonymous_form(request, state)
    response = _page(state, "signin_confirm.html", link=link, token=token, csrf=form.csrf)
    set_anon_cookie(request, response, form)
    return response


def signin_confirm(request: Request, state: State, form: Form) -> Response:
    check_csrf(request, state, None, form)
    session = accounts.complete_sign_in(
        state.services.db,
        state.services.community,
        state.secret,
        form.get("token", ""),
        now=utc_now(),
    )
    response = RedirectResponse(session.next_path, status_code=303)
    set_session_cookie(request, response, session.cookie_value, session.expires_at)
    return response


def signout(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    response = RedirectResponse("/", status_code=303)
    if viewer is not None:
        check_csrf(request, state, viewer, form)
        accounts.sign_out(state.services.db, viewer.session)
    clear_session_cookie(request, response)
    return response


def _account_page(
    request: Request,
    state: AppState,
    viewer: Viewer | None,
    status: int = 200,
    **context: object,
) -> Response:
    if viewer is None:
        return sign_in_first(request, "/account")
    view = account_view(state.services.db, viewer.account)
    return _page(
        state,
        "account.html",
        status,
        view=view,
        viewer=viewer,
        nav="account",
        **{
            "notice": "",
            "error": "",
            "new_token": "",
            **context,
        },
    )


_NOTICES = {
    "profile": "Your profile is saved.",
    "email-sent": "We sent a confirmation link to the new address. Follow it to switch.",
    "email-changed": "Your email address is changed.",
    "token-revoked": "The token is revoked.",
}


def account_page(
    request: Request, state: State, viewer: SignedIn, done: Annotated[str, Query()] = ""
) -> Response:
    return _account_page(request, state, viewer, notice=_NOTICES.get(done, ""))


def account_profile(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    try:
        accounts.update_profile(
            state.services.db,
            me.account,
            username=form.get("username", ""),
            display_name=form.get("display_name", ""),
        )
    except (InvalidRequest, Conflict) as exc:
        return _account_page(request, state, viewer, status_for(exc), error=str(exc))
    return RedirectResponse("/account?done=profile", status_code=303)


def account_email(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    try:
        accounts.request_email_change(
            state.services.db,
            _mailer(state),
            state.services.community,
            state.secret,
            me.account,
            new_email=form.get("email", ""),
            now=utc_now(),
        )
    except (InvalidRequest, Conflict, RateLimited, SourceUnavailable) as exc:
        return _account_page(request, state, viewer, status_for(exc), error=str(exc))
    return RedirectResponse("/account?done=email-sent", status_code=303)


def email_confirm_page(request: Request, state: State, token: Token = "") -> Response:
    email = accounts.read_email_change(state.secret, token, now=utc_now())
    form = anonymous_form(request, state)
    response = _page(state, "email_confirm.html", email=email, token=token, csrf=form.csrf)
    set_anon_cookie(request, response, form)
    return response


def email_confirm(request: Request, state: State, form: Form) -> Response:
    check_csrf(request, state, None, form)
    accounts.confirm_email_change(
        state.services.db, state.secret, form.get("token", ""), now=utc_now()
    )
    return _page(
        state,
        "notice.html",
        title="Address changed",
        message="Your account now uses the new address.",
        link=("Your account", "/account"),
    )


def account_delete(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    if form.get("confirm", "").strip() != me.account.username:
        return _account_page(
            request,
            state,
            viewer,
            400,
            error="To delete your account, type your username exactly.",
        )
    accounts.delete_account(state.services.db, me.account, now=utc_now())
    response = _page(
        state,
        "notice.html",
        title="Account deleted",
        message="Your account and its personal data are gone. Thank you for taking part.",
        link=("Back to today's papers", "/"),
    )
    clear_session_cookie(request, response)
    return response


def account_token_new(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    me = require_form(request, state, viewer, form)
    try:
        value = api_tokens.create_api_token(
            state.services.db, me.account, form.get("name", ""), now=utc_now()
        )
    except InvalidRequest as exc:
        return _account_page(request, state, viewer, 400, error=str(exc))
    return _account_page(request, state, viewer, new_token=value)


def account_token_revoke(
    request: Request, state: State, viewer: SignedIn, form: Form, token_id: RowId
) -> Response:
    me = require_form(request, state, viewer, form)
    api_tokens.revoke_api_token(state.services.db, me.account, token_id)
    return RedirectResponse("/account?done=token-revoked", status_code=303)
