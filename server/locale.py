"""Which language a page is shown in, and how dates, times and language names read in it.

`UiLocale` (ASGI middleware, inside the session middleware) puts `locale` and `timezone` on the
request's state: a supported `?lang=` on the URL (remembered in the session), else the language
remembered in the session (a worker's chosen language once they joined, a staff member's own
choice once they signed in), else the browser's Accept-Language, else the agency's default
(`COUNSEL_DEFAULT_LOCALE`). Routes that know better (the join form's language, a room's
participant) set `request.state.locale` themselves.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server import i18n
from server.languages import LANGUAGES

UI_LOCALES: tuple[str, ...] = (
    "ko", "en", "vi", "zh", "ne", "uz", "id", "th", "tl", "km", "mn", "si", "my", "ru", "es")
"""The join page's languages that have interface catalogs (zh: Simplified Chinese)."""
SESSION_KEY = "ui_locale"


def supported(code: str | None) -> str | None:
    """`code` when the interface exists in it (also for a region form: ko-KR -> ko)."""
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    if code in UI_LOCALES:
        return code
    base = code.split("-", 1)[0]
    return "tl" if base == "fil" else base if base in UI_LOCALES else None


def from_accept_language(header: str) -> str | None:
    """The best interface language for an Accept-Language header (q-values honoured)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    for _, _, tag in sorted(ranked):
        found = supported(tag)
        if found:
            return found
    return None


def direction(locale: str) -> str:
    """"rtl" for right-to-left scripts (none of today's languages; ready for Arabic, Urdu…)."""
    try:
        order = Locale.parse(locale).character_order
    except (ValueError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def _babel_locale(locale: str) -> str:
    return "fil" if locale == "tl" else locale


def language_name(code: str, locale: str | None = None) -> str:
    """A language's name in the reader's language ("vi" -> "Tiếng Việt" / "Vietnamese")."""
    if not code:
        return ""
    try:
        name = Locale.parse(_babel_locale(code)).get_language_name(
            _babel_locale(locale or i18n.current_locale()))
    except (ValueError, UnknownLocaleError):
        name = None
    return name or LANGUAGES.get(code, code)


def _zone() -> ZoneInfo:
    return ZoneInfo(i18n.current_timezone())


def when(moment: datetime | None, width: str = "medium") -> str:
    """Date and time in the page's language and the agency's time zone."""
    if moment is None:
        return ""
    return format_datetime(moment, width, tzinfo=_zone(),
                           locale=_babel_locale(i18n.current_locale()))


def day(moment: datetime | None, width: str = "medium") -> str:
    if moment is None:
        return ""
    local = moment.astimezone(_zone())
    return format_date(local.date(), width, locale=_babel_locale(i18n.current_locale()))


def clock(moment: datetime | None, width: str = "medium") -> str:
    if moment is None:
        return ""
    return format_time(moment, width, tzinfo=_zone(), locale=_babel_locale(i18n.current_locale()))


def number(value: float | int) -> str:
    return format_decimal(value, locale=_babel_locale(i18n.current_locale()))


def choose(scope: Scope, default: str) -> str:
    """The interface language of one request (see the module's docstring)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    chosen = supported((query.get("lang") or [""])[0])
    session = scope.get("session")
    if chosen and isinstance(session, dict):
        session[SESSION_KEY] = chosen
    if chosen:
        return chosen
    remembered = supported(session.get(SESSION_KEY)) if isinstance(session, dict) else None
    if remembered:
        return remembered
    headers = dict(scope.get("headers") or [])
    accepted = from_accept_language(headers.get(b"accept-language", b"").decode("latin-1"))
    return accepted or supported(default) or i18n.DEFAULT_LOCALE


class UiLocale:
    """Sets `state.locale` and `state.timezone` for every HTTP request and socket."""

    def __init__(self, app: ASGIApp, default: str = i18n.DEFAULT_LOCALE,
                 timezone: str = "UTC") -> None:
        self.app, self.default, self.timezone = app, default, timezone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["locale"] = choose(scope, self.default)
        state["timezone"] = self.timezone
        with i18n.use_locale(state["locale"], self.timezone):
            await self.app(scope, receive, send)


def speak(request: Request, code: str | None) -> None:
    """From here on this request answers in `code` (when the interface has it)."""
    chosen = supported(code)
    if chosen:
        request.state.locale = chosen
        i18n.set_locale(chosen)
