"""Digest pages: the subscribe form's POST, and the pages behind every emailed link.

A GET on an emailed link (confirm, unsubscribe, manage, feedback) only shows a page whose button
POSTs. The unsubscribe POST is also the RFC 8058 one-click target: it needs no cookie and no
CSRF token, since the signed token in its URL is the proof. The subscribe form sits on cached
pages, so it carries no CSRF token either: the worst a forged POST can do is send one
rate-limited opt-in mail, and nothing happens until its link is confirmed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse

from dailypapers import tokens
from dailypapers.community import saved_searches as saved
from dailypapers.digest import links
from dailypapers.digest import subscriptions as subs
from dailypapers.digest.periods import period_day
from dailypapers.digest.render import render_page_html
from dailypapers.digest.send import get_subscriber, next_digest
from dailypapers.domain import Subscriber
from dailypapers.errors import InvalidRequest, PermissionDenied
from dailypapers.mail import Mailer
from dailypapers.web.deps import AppState, State, render_html, utc_now
from dailypapers.web.forms import Form
from dailypapers.web.middleware.limits import client_ip
from dailypapers.web.middleware.security import EMAIL_VIEW_POLICY
from dailypapers.web.viewer import (
    SignedIn,
    Viewer,
    anonymous_form,
    check_csrf,
    personal,
    set_anon_cookie,
)

# No max_length: tokens.read_token refuses a token past MAX_TOKEN_CHARS before decoding it,
# and the refusal is the page that offers a fresh link (web/link_pages.py), not a bare 400.
Token = Annotated[str, Query()]


def _page(state: AppState, template: str, status: int = 200, **context: object) -> Response:
    """A digest page: the footer's subscribe form is left out, these pages answer it."""
    context.setdefault("subscribe_form", False)
    response = HTMLResponse(render_html(state, template, **context), status_code=status)
    response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds a bearer token
    return personal(response)


def _notice(state: AppState, title: str, message: str, status: int = 200) -> Response:
    return _page(state, "notice.html", status, title=title, message=message, link=None)


def _mailer(state: AppState) -> Mailer:
    return state.services.mailer


def subscribe(request: Request, state: State, viewer: SignedIn, form: Form) -> Response:
    address = subs.subscribe(
        state.services.db,
        _mailer(state),
        state.services.digest,
        state.secret,
        email=form.get("email", ""),
        frequency=form.get("frequency", "weekly"),
        ip=client_ip(request),
        now=utc_now(),
        user_id=_account_for(viewer, form.get("email", "")),
    )
    return _notice(
        state,
        "Check your inbox",
        f"If {address} is not subscribed yet, a confirmation link is on its way. Nothing is "
        "sent until you follow it.",
    )


def _account_for(viewer: Viewer | None, email: str) -> int | None:
    """A signed-in reader subscribing their own address links the subscription to the account
    (for "more like my upvotes" and their saved searches)."""
    if viewer is not None and viewer.account.email == email.strip().lower():
        return viewer.account.id
    return None


def confirm_page(request: Request, state: State, token: Token = "") -> Response:
    subscriber = subs.read_confirm_link(state.services.db, state.secret, token, now=utc_now())
    form = anonymous_form(request, state)
    response = _page(
        state,
        "digest_action.html",
        title="Confirm your digest",
        message=f"Send the {subscriber.frequency} digest to {subscriber.email}?",
        action="/digest/confirm",
        hidden=[("csrf", form.csrf), ("token", token)],
        button="Confirm my subscription",
    )
    set_anon_cookie(request, response, form)
    return response


def confirm(request: Request, state: State, form: Form) -> Response:
    check_csrf(request, state, None, form)
    subscriber = subs.confirm(
        state.services.db, state.secret, form.get("token", ""), ip=client_ip(request), now=utc_now()
    )
    return _notice(
        state,
        "You are subscribed",
        f"The {subscriber.frequency} digest will come to {subscriber.email}. Every digest has a "
        "link to change or stop it.",
    )


def unsubscribe_page(state: State, token: Token = "") -> Response:
    subscriber = subs.read_link(
        state.services.db, state.secret, links.UNSUBSCRIBE, token, now=utc_now()
    )
    return _page(
        state,
        "digest_action.html",
        title="Unsubscribe",
        message=f"Stop sending the digest to {subscriber.email}?",
        action=f"/digest/unsubscribe?token={token}",
        hidden=[],
        button="Unsubscribe",
    )


def unsubscribe(state: State, form: Form, token: Token = "") -> Response:
    subscriber = subs.unsubscribe(
        state.services.db, state.secret, token or form.get("token", ""), now=utc_now()
    )
    return _notice(state, "Unsubscribed", f"No more digests will be sent to {subscriber.email}.")


def _manage(state: AppState, token: str, status: int = 200, **context: object) -> Response:
    subscriber = subs.read_link(state.services.db, state.secret, links.MANAGE, token, now=utc_now())
    unsubscribe_token = links.long_lived(state.secret, links.UNSUBSCRIBE, subscriber)
    return _page(
        state,
        "digest_manage.html",
        status,
        subscriber=subscriber,
        prefs=subscriber.preferences,
        token=token,
        saved_searches=[
            q for _, q in saved.list_saved(state.services.db, subscriber_id=subscriber.id)
        ],
        unsubscribe_url=f"/digest/unsubscribe?token={unsubscribe_token}",
        **{"notice": "", "error": "", **context},
    )


def manage_page(state: State, token: Token = "") -> Response:
    return _manage(state, token)


def manage(state: State, form: Form) -> Response:
    token = form.get("token", "")
    try:
        subscriber = subs.update_preferences(
            state.services.db, state.secret, token, form, now=utc_now()
        )
    except InvalidRequest as exc:
        return _manage(state, token, 400, error=str(exc))
    if subscriber.status == "pending":  # a new address: it confirms before anything is sent
        subs.send_opt_in(
            _mailer(state), state.services.digest, state.secret, subscriber, now=utc_now()
        )
        return _notice(
            state,
            "Confirm your new address",
            f"We sent a confirmation link to {subscriber.email}. Digests resume once it is "
            "followed; the links in earlier digests no longer work.",
        )
    # A new address rotates the token version: the page carries on with a fresh link.
    token = links.long_lived(state.secret, links.MANAGE, subscriber)
    return _manage(state, token, notice="Your digest settings are saved.")


_FEEDBACK = {
    "up": ("More like this", "Future digests will favour papers like {title}."),
    "down": ("Less like this", "Future digests will leave out papers like {title}."),
    "mute": ("Mute this topic", "Future digests will leave out {topic}."),
}


def feedback_page(state: State, token: Token = "", kind: Annotated[str, Query()] = "") -> Response:
    _, arxiv_id, kind = subs.read_feedback(
        state.services.db, state.secret, token, kind, now=utc_now()
    )
    label, _ = _FEEDBACK[kind]
    return _page(
        state,
        "digest_action.html",
        title=label,
        message=f"Tune your digest with paper {arxiv_id}?",
        action="/digest/feedback",
        hidden=[("token", token), ("kind", kind)],
        button=label,
    )


def feedback(state: State, form: Form) -> Response:
    token, kind = form.get("token", ""), form.get("kind", "")
    _, arxiv_id, kind = subs.read_feedback(
        state.services.db, state.secret, token, kind, now=utc_now()
    )
    topic = subs.topic_of(state.services.db, arxiv_id)
    subs.give_feedback(state.services.db, state.secret, token, kind, topic=topic, now=utc_now())
    label, message = _FEEDBACK[kind]
    return _notice(state, label, message.format(title=arxiv_id, topic=topic or "this topic"))


def view(state: State, token: Token = "") -> Response:
    """The digest a mail's "view in the browser" link names: as sent, or as it would be."""
    subscriber = subs.read_link(state.services.db, state.secret, links.VIEW, token, now=utc_now())
    claims = tokens.read_token(state.secret, links.VIEW, token, now=utc_now())
    frequency, day = period_day(str(claims.data.get("p", "")))
    if frequency != subscriber.frequency:
        subscriber = replace(subscriber, frequency=frequency)
    return _digest_html(state, subscriber, day)


def admin_preview(state: State, viewer: SignedIn, email: Annotated[str, Query()] = "") -> Response:
    if viewer is None or not viewer.account.is_admin:
        raise PermissionDenied("only admins preview other people's digests")
    return _digest_html(state, get_subscriber(state.services.db, email), utc_now().date())


def _digest_html(state: AppState, subscriber: Subscriber, day: date) -> Response:
    now = utc_now()
    period, items = next_digest(
        state.services.db,
        state.services.digest,
        state.secret,
        subscriber,
        day,
        now,
        index=state.services.search_index,
        model_id=state.services.vectors.model_id,
    )
    html = render_page_html(state.secret, state.services.digest, subscriber, period, items)
    response = HTMLResponse(html)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = EMAIL_VIEW_POLICY
    return personal(response)
