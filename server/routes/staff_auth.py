"""Staff sign-in and sign-out.

Every sign-in attempt counts against the account before the password is checked (a success
starts the account afresh), failed ones against the client's address (`server/throttle.py`);
argon2 runs off the event loop."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rooms import staff as staff_repo
from server.auth.passwords import (
    hash_secret,
    hash_secret_async,
    needs_rehash,
    verify_secret_async,
)
from server.deps import STAFF_KEY, CsrfDep, DbDep, MaybeStaffDep, ServicesDep
from server.i18n import gettext
from server.locale import SESSION_KEY, supported
from server.templating import render
from server.throttle import client_address

router = APIRouter(tags=["staff"])
_DUMMY_HASH = hash_secret("timing-equaliser-not-a-password")


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/staff"


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/staff", status_code=303)


@router.get("/staff/login")
async def login_page(request: Request, staff: MaybeStaffDep, next: str | None = None) -> Response:
    if staff is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next)})


@router.post("/staff/login", dependencies=[CsrfDep])
async def login(
    request: Request,
    db: DbDep,
    services: ServicesDep,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    throttles, address = services.throttles, client_address(request)
    account = staff_repo.normalize_email(email)
    await throttles.login_address.check(address)
    await throttles.login_account.hit(account)
    user = await staff_repo.find_staff_by_email(db, email)
    valid = await verify_secret_async(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        await throttles.login_address.count(address)
        context = {"next": safe_next(next), "email": email,
                   "error": gettext("The email or password is not right.")}
        return render(request, "login.html", context, status_code=400)
    await throttles.login_account.clear(account)
    if needs_rehash(user.password_hash):
        await staff_repo.set_password_hash(db, user, await hash_secret_async(password))
    request.session.clear()
    request.session[STAFF_KEY] = user.id
    if supported(user.ui_locale):  # their own choice (else their browser's language)
        request.session[SESSION_KEY] = supported(user.ui_locale)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/staff/logout", dependencies=[CsrfDep])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)
