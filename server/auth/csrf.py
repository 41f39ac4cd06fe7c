"""CSRF protection for HTML forms: a per-session token, checked on every unsafe request."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def csrf_valid(request: Request, submitted: str | None) -> bool:
    expected = request.session.get(SESSION_KEY)
    if not isinstance(expected, str) or not submitted or not submitted.isascii():
        return False  # compare_digest refuses non-ASCII text (a TypeError: a 500)
    return hmac.compare_digest(expected, submitted)
