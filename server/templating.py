"""Jinja2 pages (autoescaped), with the CSRF token and static URLs available to every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from server.auth.csrf import FIELD, csrf_token

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["csrf_field"] = FIELD


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    data = {"csrf_token": csrf_token(request), **(context or {})}
    return templates.TemplateResponse(request, name, data, status_code=status_code)
