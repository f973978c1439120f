"""Who is looking: the session cookie, CSRF tokens for forms, and responses made for one viewer.

Cookies are HttpOnly and SameSite=Lax, and Secure when the request came over HTTPS (uvicorn's
proxy headers set the scheme from X-Forwarded-Proto of a trusted proxy). A browser that is not
signed in gets an anonymous key cookie the first time it is shown a form, so its forms carry a
CSRF token bound to it, like a session's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from dailypapers import tokens
from dailypapers.community.accounts import Session, find_session, local_path
from dailypapers.domain import Account
from dailypapers.errors import NotSignedIn, PermissionDenied
from dailypapers.web.deps import AppState, State, utc_now

SESSION_COOKIE = "dp_session"
ANON_COOKIE = "dp_anon"
# An anonymous form (sign-in, confirm) stays valid this long.
ANON_FORM_LIFETIME = timedelta(hours=12)
PERSONAL_CACHE_CONTROL = "private, no-cache"


@dataclass(frozen=True, slots=True)
class Viewer:
    """A signed-in browser and the CSRF token its forms carry."""

    session: Session
    csrf: str

    @property
    def account(self) -> Account:
        return self.session.account


async def get_viewer(request: Request, state: State) -> Viewer | None:
    """The signed-in viewer, or None.

    async, so a request without a session cookie (every anonymous reader) costs no thread hop and
    no store query; the session lookup itself runs in the thread pool.
    """
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    session = await run_in_threadpool(find_session, state.services.db, cookie, now=utc_now())
    if session is None:
        return None
    csrf = tokens.csrf_token(state.secret, session.key, expires_at=session.expires_at)
    return Viewer(session, csrf)


SignedIn = Annotated[Viewer | None, Depends(get_viewer)]


def account_of(viewer: Viewer | None) -> Account | None:
    return viewer.account if viewer is not None else None


@dataclass(frozen=True, slots=True)
class AnonymousForm:
    csrf: str
    new_key: str | None  # set this cookie on the response when not None


def anonymous_form(request: Request, state: AppState) -> AnonymousForm:
    key = request.cookies.get(ANON_COOKIE, "")
    new_key = None
    if not key or len(key) > 100:
        key = new_key = secrets.token_urlsafe(24)
    csrf = tokens.csrf_token(state.secret, key, expires_at=utc_now() + ANON_FORM_LIFETIME)
    return AnonymousForm(csrf, new_key)


def check_csrf(
    request: Request, state: AppState, viewer: Viewer | None, form: dict[str, str]
) -> None:
    """Refuse a form POST whose token was not issued to this browser (403)."""
    binding = viewer.session.key if viewer is not None else request.cookies.get(ANON_COOKIE, "")
    if not tokens.is_valid_csrf(state.secret, binding, form.get("csrf", ""), now=utc_now()):
        raise PermissionDenied(
            "this form has expired or did not come from this site: reload the page and try again"
        )


def require_form(
    request: Request, state: AppState, viewer: Viewer | None, form: dict[str, str]
) -> Viewer:
    """The signed-in viewer of a form POST with a valid CSRF token (else NotSignedIn or 403)."""
    if viewer is None:
        raise NotSignedIn("please sign in first")
    check_csrf(request, state, viewer, form)
    return viewer


def referer_path(request: Request) -> str:
    """The local page a form was posted from ("/" when unknown or on another site)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host"):
        return "/"
    path = referer.path + (f"?{referer.query}" if referer.query else "")
    return local_path(path or "/")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(
    request: Request, response: Response, value: str, expires_at: datetime
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max(0, int((expires_at - utc_now()).total_seconds())),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request)
    )


def set_anon_cookie(request: Request, response: Response, form: AnonymousForm) -> None:
    if form.new_key is not None:
        response.set_cookie(
            ANON_COOKIE,
            form.new_key,
            max_age=int(ANON_FORM_LIFETIME.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=_secure(request),
        )


def personal(response: Response) -> Response:
    """Mark a response made for one viewer: never shared, revalidated on every visit."""
    response.headers["Cache-Control"] = PERSONAL_CACHE_CONTROL
    response.headers["Vary"] = "Cookie"
    return response


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def sign_in_first(request: Request, next_path: str) -> Response:
    """A signed-out visitor tried something that needs an account: 401 for scripts, else the
    sign-in page, which brings them back to `next_path` afterwards."""
    if wants_json(request):
        body = {"error": {"code": "not_signed_in", "message": "please sign in first"}}
        return JSONResponse(body, status_code=401, headers={"Cache-Control": "no-store"})
    target = "/signin?next=" + quote(local_path(next_path), safe="/")
    return RedirectResponse(target, status_code=303)


def back_to(path: str | None, default: str) -> RedirectResponse:
    return RedirectResponse(local_path(path, default), status_code=303)
