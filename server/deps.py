"""FastAPI dependencies: services, database sessions, the signed-in staff member, CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Form, Request
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import staff as staff_repo
from rooms.errors import NotFound
from rooms.models import StaffUser
from server.auth.csrf import FIELD, HEADER, csrf_valid
from server.errors import CsrfFailed, Forbidden, LoginRequired
from server.permissions import Action, allowed, role_of_staff
from server.services import Services

STAFF_KEY = "staff_id"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_db(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.sessions() as session, session.begin():
        yield session


DbDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def current_staff_or_none(request: Request, db: DbDep) -> StaffUser | None:
    staff_id = request.session.get(STAFF_KEY)
    if not isinstance(staff_id, str):
        return None
    try:
        user = await staff_repo.get_staff(db, staff_id)
    except NotFound:
        return None
    return user if user.active else None


async def current_staff(request: Request, db: DbDep) -> StaffUser:
    user = await current_staff_or_none(request, db)
    if user is None:
        raise LoginRequired(str(request.url.path))
    return user


StaffDep = Annotated[StaffUser, Depends(current_staff)]
MaybeStaffDep = Annotated[StaffUser | None, Depends(current_staff_or_none)]


def require(user: StaffUser, action: Action) -> None:
    if not allowed(role_of_staff(user.role), action):
        raise Forbidden(f"Your role ({user.role.value}) may not {action.value.replace('_', ' ')}.")


async def check_csrf(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    submitted = csrf_token or request.headers.get(HEADER)
    if not csrf_valid(request, submitted):
        raise CsrfFailed("This form has expired. Reload the page and try again.")


CsrfDep = Depends(check_csrf)
__all__ = ["FIELD", "CsrfDep", "DbDep", "MaybeStaffDep", "ServicesDep", "StaffDep", "require"]
