"""Jinja2 pages (autoescaped), with the CSRF token and static URLs available to every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from server import i18n
from server import locale as locale_format
from server.auth.csrf import FIELD, csrf_token
from server.labels import label

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["csrf_field"] = FIELD
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True)


templates.env.filters.update({
    "when": locale_format.when, "day": locale_format.day, "clock": locale_format.clock,
    "number": locale_format.number, "language_name": locale_format.language_name,
    "label": label})


def page_locale(request: Request, context: dict[str, Any] | None = None) -> str:
    """The page's interface language: a supported `lang` the route chose (a form's language),
    else the request's (server/locale.py)."""
    chosen = locale_format.supported(str((context or {}).get("lang") or ""))
    return chosen or getattr(request.state, "locale", None) or i18n.DEFAULT_LOCALE


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    locale = page_locale(request, context)
    zone = getattr(request.state, "timezone", None)
    data = {"csrf_token": csrf_token(request), **(context or {}), "lang": locale,
            "dir": locale_format.direction(locale), "timezone_name": zone or "UTC",
            "script_catalog": i18n.script_catalog(locale)}
    with i18n.use_locale(locale, zone):
        return templates.TemplateResponse(request, name, data, status_code=status_code)
