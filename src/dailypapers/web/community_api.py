"""Upvoting and submitting through the JSON API with a personal token (Authorization: Bearer).

No cookies are read here, so no CSRF token is needed: a cross-site page cannot send the header.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse

from dailypapers.community import submissions, votes
from dailypapers.community.api_tokens import account_for_token
from dailypapers.domain import Account, split_arxiv_id
from dailypapers.errors import InvalidRequest, NotFound, NotSignedIn
from dailypapers.web.deps import State, utc_now
from dailypapers.web.forms import JsonBody
from dailypapers.web.hf_json import paper_object


def token_account(request: Request, state: State) -> Account:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotSignedIn("send a personal API token: Authorization: Bearer dp_…")
    account = account_for_token(state.services.db, value.strip(), now=utc_now())
    if account is None:
        raise NotSignedIn("this API token is unknown or revoked")
    return account


TokenAccount = Annotated[Account, Depends(token_account)]
# The body read_json parses for a submission (documented by hand: the handler reads raw JSON).
SUBMIT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["arxiv_id"],
                "properties": {
                    "arxiv_id": {
                        "type": "string",
                        "description": "An arXiv id (2406.12345, hep-th/9901001) or its URL.",
                    }
                },
            }
        }
    },
}


def _arxiv_id(raw: str) -> str:
    try:
        return split_arxiv_id(raw)[0]
    except ValueError as exc:
        raise NotFound(f"{raw[:80]!r} is not an arXiv identifier") from exc


def _vote(state: State, account: Account, arxiv_id: str, upvote: bool) -> Response:
    result = votes.set_vote(
        state.services.db, account, _arxiv_id(arxiv_id), upvote=upvote, now=utc_now()
    )
    body = {"id": result.arxiv_id, "upvoted": result.upvoted, "upvotes": result.upvotes}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def api_upvote(state: State, account: TokenAccount, arxiv_id: str) -> Response:
    """Upvote with your token; upvoting twice counts once. Answers the new shown count."""
    return _vote(state, account, arxiv_id, True)


def api_unvote(state: State, account: TokenAccount, arxiv_id: str) -> Response:
    return _vote(state, account, arxiv_id, False)


def api_submit(state: State, account: TokenAccount, body: JsonBody) -> Response:
    """Feature a paper today: `{"arxiv_id": "2406.12345"}` (an id or an arxiv.org URL).

    409 when it is already featured, 404 when arXiv does not know it, 503 when arXiv is down.
    """
    raw = body.get("arxiv_id")
    if not isinstance(raw, str):
        raise InvalidRequest('send {"arxiv_id": "2406.12345"}')
    done = submissions.submit_paper(
        state.services.db,
        state.services.open_arxiv,
        state.services.community,
        account,
        raw,
        now=utc_now(),
    )
    return JSONResponse(paper_object(done.paper, state.services.site.base_url), status_code=201)
