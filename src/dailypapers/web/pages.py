"""HTML pages: parse the request, make one service call, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from dailypapers.store.listings import latest_featured_day, list_featured_day
from dailypapers.web.deps import AppState, get_state, templates

router = APIRouter()
State = Annotated[AppState, Depends(get_state)]


@router.get("/healthz", response_class=PlainTextResponse)
def healthz(state: State) -> str:
    with state.services.db.read() as conn:
        latest_featured_day(conn)
    return "ok"


@router.get("/", response_class=HTMLResponse)
def daily_page(request: Request, state: State) -> HTMLResponse:
    with state.services.db.read() as conn:
        day = latest_featured_day(conn)
        papers = list_featured_day(conn, day) if day else []
    return templates.TemplateResponse(
        request,
        "day.html",
        {"site_name": state.services.site_name, "day": day, "papers": papers},
    )
