"""Staff sign-in and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rooms import staff as staff_repo
from server.auth.passwords import hash_secret, needs_rehash, verify_secret
from server.deps import STAFF_KEY, CsrfDep, DbDep, MaybeStaffDep
from server.templating import render

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
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    user = await staff_repo.find_staff_by_email(db, email)
    valid = verify_secret(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or not user.active:
        context = {"next": safe_next(next), "email": email,
                   "error": "The email or password is not right."}
        return render(request, "login.html", context, status_code=400)
    if needs_rehash(user.password_hash):
        await staff_repo.set_password_hash(db, user, hash_secret(password))
    request.session.clear()
    request.session[STAFF_KEY] = user.id
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/staff/logout", dependencies=[CsrfDep])
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)
