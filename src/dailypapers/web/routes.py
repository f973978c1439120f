"""Every URL the app serves, one listing per surface: operations, the JSON API, the feeds and the
site's pages (the shape of miniflux's ui.go). Handlers live in their modules; here is only where
each one answers. Order matters where paths overlap: the first match wins, so the markdown twin
`/papers/{id}.md` comes before the pages' `/papers/{id}`.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from dailypapers.web import (
    account_pages,
    api,
    community_api,
    community_pages,
    digest_pages,
    docs,
    feeds,
    moderation_pages,
    pages,
    saved_search_pages,
    status_pages,
)
from dailypapers.web.api_models import (
    ERROR_RESPONSES,
    HTML_ERROR_RESPONSES,
    TOKEN_RESPONSES,
    UNAVAILABLE,
    ErrorBody,
    Health,
    HfArxivRepos,
    HfDailyEntry,
    HfPaper,
    HfSearchEntry,
    HfSimilarEntry,
    VoteResult,
    paper_links,
)
from dailypapers.web.community_api import SUBMIT_BODY
from dailypapers.web.feeds import FEED_RESPONSES
from dailypapers.web.middleware import metrics


def operations_routes() -> list[APIRouter]:
    """Operations: liveness and Prometheus metrics."""
    api_health_router = APIRouter(tags=["operations"])
    api_health_router.add_api_route(
        "/healthz",
        api.healthz,
        methods=["GET"],
        response_model=Health,
        summary="Liveness and store check",
        responses={503: UNAVAILABLE},
    )
    metrics_router = APIRouter(include_in_schema=False)
    metrics_router.add_api_route("/metrics", metrics.metrics, methods=["GET"])
    return [api_health_router, metrics_router]


def api_routes() -> list[APIRouter]:
    """The JSON API (Hugging Face compatible, then the community's writes)."""
    community_api_router = APIRouter(
        prefix="/api", tags=["community"], responses={**ERROR_RESPONSES, **TOKEN_RESPONSES}
    )
    community_api_router.add_api_route(
        "/papers/{arxiv_id:path}/upvote",
        community_api.api_upvote,
        methods=["POST"],
        response_model=VoteResult,
        summary="Upvote a paper",
        operation_id="upvotePaper",
    )
    community_api_router.add_api_route(
        "/papers/{arxiv_id:path}/upvote",
        community_api.api_unvote,
        methods=["DELETE"],
        response_model=VoteResult,
        summary="Take an upvote back",
        operation_id="unvotePaper",
    )
    community_api_router.add_api_route(
        "/papers/submit",
        community_api.api_submit,
        methods=["POST"],
        response_model=HfPaper,
        summary="Submit a paper",
        status_code=201,
        responses={
            409: {"model": ErrorBody, "description": "Already featured, or too old to submit."},
            413: {"model": ErrorBody, "description": "A body over 128 KiB."},
            201: {"links": paper_links("$response.body#/id")},
        },
        openapi_extra={"requestBody": SUBMIT_BODY},
    )
    api_router = APIRouter(prefix="/api", tags=["papers"], responses=ERROR_RESPONSES)
    api_router.add_api_route(
        "/daily_papers",
        api.api_daily_papers,
        methods=["GET"],
        response_model=list[HfDailyEntry],
        summary="Featured papers",
        responses={200: {"links": paper_links("$response.body#/0/paper/id")}},
    )
    api_router.add_api_route(
        "/papers/search",
        api.api_search,
        methods=["GET"],
        response_model=list[HfSearchEntry],
        summary="Search papers",
        responses={200: {"links": paper_links("$response.body#/0/paper/id")}},
    )
    api_router.add_api_route(
        "/papers/{arxiv_id:path}/similar",
        api.api_similar,
        methods=["GET"],
        response_model=list[HfSimilarEntry],
        summary="Similar papers",
        operation_id="similarPapers",
    )
    api_router.add_api_route(
        "/papers/{arxiv_id:path}",
        api.api_paper,
        methods=["GET"],
        response_model=HfPaper,
        summary="One paper",
        operation_id="getPaper",
        responses={200: {"links": paper_links("$response.body#/id", get=False)}},
    )
    api_router.add_api_route(
        "/arxiv/{arxiv_id:path}/repos",
        api.api_arxiv_repos,
        methods=["GET"],
        response_model=HfArxivRepos,
        summary="What cites a paper, and its code and project links",
        operation_id="arxivRepos",
    )
    # The markdown twin is part of HF's API surface (read_paper), so it is documented.
    pages_markdown_router = APIRouter(tags=["papers"])
    pages_markdown_router.add_api_route(
        "/papers/{arxiv_id:path}.md",
        pages.paper_markdown,
        methods=["GET"],
        response_class=Response,
        operation_id="paperMarkdown",
        responses={200: {"content": {"text/markdown": {}}}, **HTML_ERROR_RESPONSES},
    )
    return [community_api_router, api_router, pages_markdown_router]


def feeds_routes() -> list[APIRouter]:
    """RSS and Atom feeds."""
    feeds_router = APIRouter(prefix="/feeds", tags=["feeds"])
    feeds_router.add_api_route(
        "/daily.{kind}",
        feeds.daily_feed,
        methods=["GET"],
        responses=FEED_RESPONSES,
        response_class=Response,
    )
    feeds_router.add_api_route(
        "/trending.{kind}",
        feeds.trending_feed,
        methods=["GET"],
        responses=FEED_RESPONSES,
        response_class=Response,
    )
    feeds_router.add_api_route(
        "/authors/{name:path}.{kind}",
        feeds.author_feed,
        methods=["GET"],
        responses=FEED_RESPONSES,
        response_class=Response,
    )
    feeds_router.add_api_route(
        "/search.{kind}",
        feeds.search_feed,
        methods=["GET"],
        responses=FEED_RESPONSES,
        response_class=Response,
    )
    return [feeds_router]


def pages_routes() -> list[APIRouter]:
    """The site's HTML pages."""
    docs_router = APIRouter(include_in_schema=False)
    docs_router.add_api_route("/docs", docs.docs_page, methods=["GET"])
    account_pages_router = APIRouter(include_in_schema=False)
    account_pages_router.add_api_route("/signin", account_pages.signin_page, methods=["GET"])
    account_pages_router.add_api_route("/signin", account_pages.signin_request, methods=["POST"])
    account_pages_router.add_api_route(
        "/signin/confirm", account_pages.signin_confirm_page, methods=["GET"]
    )
    account_pages_router.add_api_route(
        "/signin/confirm", account_pages.signin_confirm, methods=["POST"]
    )
    account_pages_router.add_api_route("/signout", account_pages.signout, methods=["POST"])
    account_pages_router.add_api_route("/account", account_pages.account_page, methods=["GET"])
    account_pages_router.add_api_route(
        "/account/profile", account_pages.account_profile, methods=["POST"]
    )
    account_pages_router.add_api_route(
        "/account/email", account_pages.account_email, methods=["POST"]
    )
    account_pages_router.add_api_route(
        "/account/email/confirm", account_pages.email_confirm_page, methods=["GET"]
    )
    account_pages_router.add_api_route(
        "/account/email/confirm", account_pages.email_confirm, methods=["POST"]
    )
    account_pages_router.add_api_route(
        "/account/delete", account_pages.account_delete, methods=["POST"]
    )
    account_pages_router.add_api_route(
        "/account/tokens", account_pages.account_token_new, methods=["POST"]
    )
    account_pages_router.add_api_route(
        "/account/tokens/{token_id}/revoke", account_pages.account_token_revoke, methods=["POST"]
    )
    community_pages_router = APIRouter(include_in_schema=False)
    community_pages_router.add_api_route(
        "/papers/{arxiv_id:path}/upvote", community_pages.upvote, methods=["POST"]
    )
    community_pages_router.add_api_route("/submit", community_pages.submit_page, methods=["GET"])
    community_pages_router.add_api_route("/submit", community_pages.submit, methods=["POST"])
    community_pages_router.add_api_route(
        "/papers/{arxiv_id:path}/comments", community_pages.comment_post, methods=["POST"]
    )
    community_pages_router.add_api_route(
        "/comments/{comment_id}/edit", community_pages.comment_edit_page, methods=["GET"]
    )
    community_pages_router.add_api_route(
        "/comments/{comment_id}/edit", community_pages.comment_edit, methods=["POST"]
    )
    community_pages_router.add_api_route(
        "/comments/{comment_id}/delete", community_pages.comment_delete, methods=["POST"]
    )
    community_pages_router.add_api_route(
        "/comments/{comment_id}/report", community_pages.comment_report, methods=["POST"]
    )
    community_pages_router.add_api_route(
        "/papers/{arxiv_id:path}/links", community_pages.paper_links, methods=["POST"]
    )
    moderation_pages_router = APIRouter(include_in_schema=False)
    moderation_pages_router.add_api_route(
        "/moderation", moderation_pages.moderation_page, methods=["GET"]
    )
    moderation_pages_router.add_api_route(
        "/moderation/papers", moderation_pages.moderation_paper, methods=["POST"]
    )
    moderation_pages_router.add_api_route(
        "/moderation/comments/{comment_id}/delete",
        moderation_pages.moderation_comment_delete,
        methods=["POST"],
    )
    moderation_pages_router.add_api_route(
        "/moderation/comments/{comment_id}/dismiss",
        moderation_pages.moderation_comment_dismiss,
        methods=["POST"],
    )
    moderation_pages_router.add_api_route(
        "/moderation/users", moderation_pages.moderation_user, methods=["POST"]
    )
    digest_pages_router = APIRouter(include_in_schema=False)
    digest_pages_router.add_api_route("/digest/subscribe", digest_pages.subscribe, methods=["POST"])
    digest_pages_router.add_api_route("/digest/confirm", digest_pages.confirm_page, methods=["GET"])
    digest_pages_router.add_api_route("/digest/confirm", digest_pages.confirm, methods=["POST"])
    digest_pages_router.add_api_route(
        "/digest/unsubscribe", digest_pages.unsubscribe_page, methods=["GET"]
    )
    digest_pages_router.add_api_route(
        "/digest/unsubscribe", digest_pages.unsubscribe, methods=["POST"]
    )
    digest_pages_router.add_api_route("/digest/manage", digest_pages.manage_page, methods=["GET"])
    digest_pages_router.add_api_route("/digest/manage", digest_pages.manage, methods=["POST"])
    digest_pages_router.add_api_route(
        "/digest/feedback", digest_pages.feedback_page, methods=["GET"]
    )
    digest_pages_router.add_api_route("/digest/feedback", digest_pages.feedback, methods=["POST"])
    digest_pages_router.add_api_route("/digest/view", digest_pages.view, methods=["GET"])
    digest_pages_router.add_api_route(
        "/admin/digest/preview", digest_pages.admin_preview, methods=["GET"]
    )
    saved_search_pages_router = APIRouter(include_in_schema=False)
    saved_search_pages_router.add_api_route(
        "/saved-searches", saved_search_pages.saved_searches_page, methods=["GET"]
    )
    saved_search_pages_router.add_api_route(
        "/saved-searches", saved_search_pages.save_search, methods=["POST"]
    )
    saved_search_pages_router.add_api_route(
        "/saved-searches/delete", saved_search_pages.delete_search, methods=["POST"]
    )
    saved_search_pages_router.add_api_route(
        "/account/digest", saved_search_pages.account_digest, methods=["GET"]
    )
    status_pages_router = APIRouter(include_in_schema=False)
    status_pages_router.add_api_route("/status", status_pages.status_page, methods=["GET"])
    pages_router = APIRouter(include_in_schema=False)
    pages_router.add_api_route("/", pages.home_page, methods=["GET"])
    pages_router.add_api_route("/papers", pages.papers_page, methods=["GET"])
    pages_router.add_api_route("/papers/date/{day}", pages.day_page, methods=["GET"])
    pages_router.add_api_route("/papers/week/{week}", pages.week_page, methods=["GET"])
    pages_router.add_api_route("/papers/month/{month}", pages.month_page, methods=["GET"])
    pages_router.add_api_route("/papers/{arxiv_id:path}", pages.paper_page, methods=["GET"])
    pages_router.add_api_route("/authors/{name:path}", pages.author_page, methods=["GET"])
    pages_router.add_api_route("/trending", pages.trending_page, methods=["GET"])
    pages_router.add_api_route("/search", pages.search_page, methods=["GET"])
    return [
        docs_router,
        account_pages_router,
        community_pages_router,
        moderation_pages_router,
        digest_pages_router,
        saved_search_pages_router,
        status_pages_router,
        pages_router,
    ]


def all_routes() -> list[APIRouter]:
    """Every surface, in the order the app matches them."""
    return [*operations_routes(), *api_routes(), *feeds_routes(), *pages_routes()]
