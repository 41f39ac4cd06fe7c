"""The one place that maps errors to HTTP responses (pages get an HTML page, APIs JSON).

Pages are in the reader's language: the titles here are catalog messages, and a message is
translated when the catalogs have it (the worker-facing ones are listed in `WORKER_MESSAGES` so
that extraction finds them where they are raised as plain text); a message that only repeats
the title is left out."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from rooms.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    InviteClaimed,
    NotFound,
    RoomEnded,
    RoomNotOpen,
)
from server.auth.tokens import TokenError, TokenExpired, TokenWrongRoom
from server.i18n import N_, current_locale, gettext
from server.templating import render


class HttpError(Exception):
    status = 400
    title = N_("Something is wrong")

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginRequired(HttpError):
    status = 401
    title = N_("Please sign in")


class Forbidden(HttpError):
    status = 403
    title = N_("Not allowed")


class CsrfFailed(HttpError):
    status = 403
    title = N_("Form expired")


class TooManyAttempts(HttpError):
    """A throttle refused the attempt (answered with 429 and Retry-After)."""

    status = 429
    title = N_("Too many attempts")

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


DOMAIN_STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, N_("Not found")),
    RoomEnded: (410, N_("This session has ended")),
    Conflict: (409, N_("That did not work")),
    InvalidTransition: (409, N_("That did not work")),
    RoomNotOpen: (409, N_("The room is not open yet")),
    InviteClaimed: (409, N_("This invitation has already been used")),
}
TOKEN_STATUS: dict[type[TokenError], tuple[int, str]] = {
    TokenExpired: (410, N_("This link has expired")),
    TokenWrongRoom: (403, N_("This link is for another room")),
    TokenError: (403, N_("This link is not valid")),
}
WORKER_MESSAGES = (  # raised as plain text elsewhere; shown translated on error pages
    N_("this link has expired; ask your counselor for a new one"),
    N_("this link is not valid"),
    N_("this token is for another room"),
    N_("this session has ended"),
    N_("wait until the host admits you"),
    N_("This invitation has already been used by the person who joined with it. "
       "If that was not you, ask your counselor for a new invitation."),
    N_("You are not assigned to interpret this session."),
    N_("This session is not yours: ask its counselor to add you to it."),
    N_("Open the invitation link you were sent to join this session."),
    N_("The host did not admit you to this session."),
    N_("The host removed you from this session."),
    N_("This link cannot be used to fill forms."),
    N_("The interpreter's console is for the session's interpreters."),
)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", "")


def _same(one: str, other: str) -> bool:
    return one.strip(" .").casefold() == other.strip(" .").casefold()


def error_response(request: Request, status: int, title: str, message: str, code: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    shown_title, shown = gettext(title), gettext(message)
    context = {"title": shown_title, "staff_session": bool(request.session.get("staff_id"))
               if "session" in request.scope else False,
               "message": "" if _same(message, title) or _same(shown, shown_title) else shown,
               "message_untranslated": shown == message and _needs_translation(message)}
    return render(request, "error.html", context, status_code=status)


def _needs_translation(message: str) -> bool:
    return current_locale() != "en" and bool(message)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return error_response(request, 401, exc.title, exc.message, "login_required")
        return RedirectResponse(f"/staff/login?next={quote(exc.message)}", status_code=303)

    @app.exception_handler(HttpError)
    async def _http(request: Request, exc: HttpError) -> Response:
        code = type(exc).__name__.lower()
        response = error_response(request, exc.status, exc.title, exc.message, code)
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return error_response(request, 422, N_("Check the form"), problems, "invalid_request")

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        status, title = DOMAIN_STATUS.get(type(exc), (400, N_("That did not work")))
        return error_response(request, status, title, exc.message, exc.code)

    @app.exception_handler(TokenError)
    async def _token(request: Request, exc: TokenError) -> Response:
        status, title = TOKEN_STATUS.get(type(exc), (403, N_("This link is not valid")))
        return error_response(request, status, title, exc.message, exc.code)
