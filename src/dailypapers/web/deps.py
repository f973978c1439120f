"""Request dependencies: the services and templates a handler needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from dailypapers.services import Services

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class AppState:
    services: Services
    secret: str


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.dp
    return state
