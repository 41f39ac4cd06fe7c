"""Staff accounts (admins, counselors, interpreters)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict, NotFound
from rooms.models import StaffRole, StaffUser


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def create_staff(
    session: AsyncSession, *, email: str, display_name: str, role: StaffRole, password_hash: str
) -> StaffUser:
    user = StaffUser(
        email=normalize_email(email), display_name=display_name.strip(), role=role,
        password_hash=password_hash,
    )
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise Conflict(f"a staff account for {user.email} already exists") from exc
    return user


async def get_staff(session: AsyncSession, staff_id: str) -> StaffUser:
    user = await session.get(StaffUser, staff_id)
    if user is None:
        raise NotFound("no such staff account")
    return user


async def find_staff_by_email(session: AsyncSession, email: str) -> StaffUser | None:
    query = select(StaffUser).where(StaffUser.email == normalize_email(email))
    return (await session.execute(query)).scalar_one_or_none()


async def list_staff(session: AsyncSession) -> list[StaffUser]:
    query = select(StaffUser).order_by(StaffUser.role, StaffUser.display_name)
    return list((await session.execute(query)).scalars())


async def count_staff(session: AsyncSession) -> int:
    return (await session.execute(select(func.count()).select_from(StaffUser))).scalar_one()


async def set_password_hash(session: AsyncSession, user: StaffUser, password_hash: str) -> None:
    user.password_hash = password_hash
    await session.flush()


async def display_names(session: AsyncSession) -> list[str]:
    """Every staff member's name (guests may not take one)."""
    return list((await session.execute(select(StaffUser.display_name))).scalars())
