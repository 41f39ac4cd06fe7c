"""Admins manage staff accounts; every staff member picks their own interface language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rooms import staff as staff_repo
from rooms.errors import Conflict
from rooms.models import StaffRole
from rooms.names import InvalidName, normalize_name
from server.auth.passwords import hash_secret_async, password_problem
from server.deps import CsrfDep, DbDep, StaffDep, require
from server.i18n import gettext
from server.locale import SESSION_KEY, UI_LOCALES, speak, supported
from server.permissions import Action
from server.templating import render

router = APIRouter(tags=["staff"])


@router.get("/staff/accounts")
async def accounts_page(request: Request, db: DbDep, staff: StaffDep) -> Response:
    require(staff, Action.MANAGE_STAFF)
    people = await staff_repo.list_staff(db)
    return render(request, "accounts.html", {"staff": staff, "people": people,
                                             "roles": list(StaffRole)})


@router.post("/staff/accounts", dependencies=[CsrfDep])
async def create_account(
    request: Request,
    db: DbDep,
    staff: StaffDep,
    email: Annotated[str, Form(min_length=3, max_length=254)],
    display_name: Annotated[str, Form(min_length=1, max_length=120)],
    role: Annotated[StaffRole, Form()],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    require(staff, Action.MANAGE_STAFF)
    problem = password_problem(password) or (
        None if "@" in email else gettext("Enter a valid email."))
    if problem is None:
        try:
            await staff_repo.create_staff(db, email=email, display_name=normalize_name(
                display_name), role=role, password_hash=await hash_secret_async(password))
        except Conflict as exc:
            problem = exc.message
        except InvalidName as exc:
            problem = str(exc)
    if problem is not None:
        people = await staff_repo.list_staff(db)
        context = {"staff": staff, "people": people, "roles": list(StaffRole), "error": problem}
        return render(request, "accounts.html", context, status_code=400)
    return RedirectResponse("/staff/accounts", status_code=303)


@router.get("/staff/account")
async def own_account(request: Request, staff: StaffDep) -> Response:
    return render(request, "account.html", {"staff": staff, "locales": UI_LOCALES})


@router.post("/staff/account", dependencies=[CsrfDep])
async def set_own_locale(request: Request, db: DbDep, staff: StaffDep,
                         ui_locale: Annotated[str, Form(max_length=16)] = "") -> Response:
    """The staff member's interface language ("" = their browser's)."""
    chosen = supported(ui_locale)
    staff.ui_locale = chosen
    await db.flush()
    if chosen:
        request.session[SESSION_KEY] = chosen
        speak(request, chosen)
    else:
        request.session.pop(SESSION_KEY, None)
    return RedirectResponse("/staff/account?saved=1", status_code=303)
