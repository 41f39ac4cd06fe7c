"""The one place that maps errors to HTTP responses (pages get an HTML page, APIs JSON)."""

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
from server.templating import render


class HttpError(Exception):
    status = 400
    title = "Something is wrong"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LoginRequired(HttpError):
    status = 401
    title = "Please sign in"


class Forbidden(HttpError):
    status = 403
    title = "Not allowed"


class CsrfFailed(HttpError):
    status = 403
    title = "Form expired"


class TooManyAttempts(HttpError):
    """A throttle refused the attempt (answered with 429 and Retry-After)."""

    status = 429
    title = "Too many attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


DOMAIN_STATUS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not found"),
    RoomEnded: (410, "This session has ended"),
    Conflict: (409, "That did not work"),
    InvalidTransition: (409, "That did not work"),
    RoomNotOpen: (409, "The room is not open yet"),
    InviteClaimed: (409, "This invitation has already been used"),
}
TOKEN_STATUS: dict[type[TokenError], tuple[int, str]] = {
    TokenExpired: (410, "This link has expired"),
    TokenWrongRoom: (403, "This link is for another room"),
    TokenError: (403, "This link is not valid"),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", "")


def error_response(request: Request, status: int, title: str, message: str, code: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
    return render(request, "error.html", {"title": title, "message": message}, status_code=status)


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
        return error_response(request, 422, "Check the form", problems, "invalid_request")

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        status, title = DOMAIN_STATUS.get(type(exc), (400, "That did not work"))
        return error_response(request, status, title, exc.message, exc.code)

    @app.exception_handler(TokenError)
    async def _token(request: Request, exc: TokenError) -> Response:
        status, title = TOKEN_STATUS.get(type(exc), (403, "This link is not valid"))
        return error_response(request, status, title, exc.message, exc.code)
