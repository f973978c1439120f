"""The page an emailed link ends at when it cannot be used (expired, used, replaced, cut short or
forged): what happened, in plain words, and the form that gets a fresh link. web/errors.py sends
every InvalidToken on these paths here; it changes nothing and grants nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from dailypapers import tokens
from dailypapers.community.accounts import find_refused_sign_in
from dailypapers.digest.links import find_refused_confirm_address
from dailypapers.web.deps import AppState, render_html
from dailypapers.web.viewer import anonymous_form, personal, set_anon_cookie

# The status of every such page: the request named a link the server will not honour. 410 would
# fit an expired link, but a forged one is no more "gone" than it ever was, and one status for
# all keeps monitors and tests simple.
STATUS = 400
_SIGN_IN = "/signin/confirm"
_EMAIL_CHANGE = "/account/email/confirm"
_DIGEST_CONFIRM = "/digest/confirm"
_DIGEST_LINKS = frozenset(
    {"/digest/unsubscribe", "/digest/manage", "/digest/feedback", "/digest/view"}
)
_CUT_SHORT = (
    "It is incomplete or has been changed, perhaps cut short when it was copied from the email."
)


@dataclass(frozen=True, slots=True)
class Resend:
    """A form that mails a sign-in link, to `next_path` afterwards."""

    email: str
    next_path: str
    button: str
    hint: str


def has_link_page(path: str) -> bool:
    return path in (_SIGN_IN, _EMAIL_CHANGE, _DIGEST_CONFIRM) or path in _DIGEST_LINKS


def invalid_link_page(request: Request, exc: tokens.InvalidToken) -> Response:
    """The page for a refused emailed link on one of the paths `has_link_page` accepts."""
    state: AppState = request.app.state.dp
    path = request.url.path
    if path == _SIGN_IN:
        context = _sign_in(exc)
    elif path == _EMAIL_CHANGE:
        context = _email_change(exc)
    elif path == _DIGEST_CONFIRM:
        context = _digest_confirm(exc)
    else:
        context = _digest_link(exc)
    form = anonymous_form(request, state)
    html = render_html(
        state,
        "link_invalid.html",
        csrf=form.csrf,
        **{"resend": None, "resubscribe": None, "link": None, **context},
    )
    response = personal(HTMLResponse(html, status_code=STATUS))
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds a bearer token
    set_anon_cookie(request, response, form)
    return response


def _sentence(reason: str) -> str:
    """A refusal's own words ("this link has expired; ask for a new one") as a sentence."""
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


def _sign_in(exc: tokens.InvalidToken) -> dict[str, object]:
    refused = find_refused_sign_in(exc)
    minutes = int(tokens.SIGN_IN_LIFETIME.total_seconds() // 60)
    resend = Resend(
        email=refused.email if refused else "",
        next_path=refused.next_path if refused else "/",
        button="Email me a new sign-in link",
        hint=f"The new link works once and for {minutes} minutes.",
    )
    if refused is None:
        return {"title": "This sign-in link does not work", "message": _CUT_SHORT, "resend": resend}
    return {
        "title": "This sign-in link has expired or was already used",
        "message": f"A sign-in link works once, within {minutes} minutes of being sent. "
        f"We can email a new one to {refused.email}.",
        "resend": resend,
    }


def _email_change(exc: tokens.InvalidToken) -> dict[str, object]:
    if exc.claims is None:
        title, message = "This address-change link does not work", _CUT_SHORT
    else:
        title = "This address-change link has expired or was already used"
        message = "An address-change link works once, within a day of being sent."
    return {
        "title": title,
        "message": message + " Ask for a new one from your account page.",
        "link": ("Change your address on your account page", "/account"),
    }


def _digest_confirm(exc: tokens.InvalidToken) -> dict[str, object]:
    return {
        "title": "This confirmation link cannot be used",
        "message": _sentence(str(exc)) + " Subscribe again below for a fresh confirmation link.",
        "resubscribe": {"email": find_refused_confirm_address(exc) or ""},
    }


def _digest_link(exc: tokens.InvalidToken) -> dict[str, object]:
    # No address is offered: a replaced link's subscriber may since have moved to another one.
    return {
        "title": "This digest link no longer works",
        "message": _sentence(str(exc)) + " Digest links stop working once newer ones replace "
        "them (after a change of address, for example). The links in your latest digest work, "
        "or we can email you a link to your digest settings.",
        "resend": Resend(
            email="",
            next_path="/account/digest",
            button="Email me a link to my digest settings",
            hint="The link signs you in with your digest's address and opens its settings, "
            "where you can change or stop the digest.",
        ),
        "resubscribe": {"email": ""},
    }
