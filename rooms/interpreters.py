"""Interpreters assigned to rooms: only they may correct a room's captions or speak into its
language channels."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict
from rooms.models import RoomInterpreter, StaffRole, StaffUser


async def assign(
    session: AsyncSession, *, room_id: str, interpreter: StaffUser, languages: list[str],
    assigned_by: StaffUser,
) -> RoomInterpreter:
    """Assign (or re-assign, with new languages) an interpreter to a room."""
    if interpreter.role is not StaffRole.INTERPRETER or not interpreter.active:
        raise Conflict("only an active interpreter account can be assigned")
    existing = await find(session, room_id, interpreter.id)
    if existing is not None:
        existing.languages = sorted(set(languages))
        await session.flush()
        return existing
    row = RoomInterpreter(room_id=room_id, staff_id=interpreter.id,
                          languages=sorted(set(languages)), assigned_by=assigned_by.id)
    session.add(row)
    await session.flush()
    return row


async def unassign(session: AsyncSession, *, room_id: str, staff_id: str) -> bool:
    result = await session.execute(delete(RoomInterpreter).where(
        RoomInterpreter.room_id == room_id, RoomInterpreter.staff_id == staff_id))
    return bool(getattr(result, "rowcount", 0))


async def find(session: AsyncSession, room_id: str, staff_id: str) -> RoomInterpreter | None:
    query = select(RoomInterpreter).where(RoomInterpreter.room_id == room_id,
                                          RoomInterpreter.staff_id == staff_id)
    return (await session.execute(query)).scalar_one_or_none()


async def is_assigned(session: AsyncSession, room_id: str, staff_id: str | None) -> bool:
    return staff_id is not None and await find(session, room_id, staff_id) is not None


async def of_room(session: AsyncSession, room_id: str) -> list[tuple[RoomInterpreter, StaffUser]]:
    """The room's interpreters with their accounts, by name."""
    query = (select(RoomInterpreter, StaffUser)
             .join(StaffUser, StaffUser.id == RoomInterpreter.staff_id)
             .where(RoomInterpreter.room_id == room_id)
             .order_by(StaffUser.display_name))
    return [(row, user) for row, user in (await session.execute(query)).all()]
