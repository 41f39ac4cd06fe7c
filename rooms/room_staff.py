"""The counselors of a room: its creator, and those a host added. Only they (and admins) reach
the room: open and run it, enter it, read its transcript."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict
from rooms.models import Room, RoomStaff, StaffRole, StaffUser


async def add(session: AsyncSession, *, room: Room, counselor: StaffUser,
              added_by: StaffUser) -> RoomStaff | None:
    """Add a counselor to the room; None when they already belong to it."""
    if counselor.role is not StaffRole.COUNSELOR or not counselor.active:
        raise Conflict("only an active counselor account can be added to a room")
    if await is_member(session, room, counselor.id):
        return None
    row = RoomStaff(room_id=room.id, staff_id=counselor.id, added_by=added_by.id)
    session.add(row)
    await session.flush()
    return row


async def is_member(session: AsyncSession, room: Room, staff_id: str) -> bool:
    if room.created_by == staff_id:
        return True
    query = select(RoomStaff.id).where(RoomStaff.room_id == room.id,
                                       RoomStaff.staff_id == staff_id)
    return (await session.execute(query)).first() is not None


async def member_room_ids(session: AsyncSession, staff_id: str) -> set[str]:
    """The rooms a counselor was added to (those they created are on `Room.created_by`)."""
    query = select(RoomStaff.room_id).where(RoomStaff.staff_id == staff_id)
    return set((await session.execute(query)).scalars())


async def of_room(session: AsyncSession, room: Room) -> list[StaffUser]:
    """The room's counselors, its creator first."""
    query = (select(StaffUser).join(RoomStaff, RoomStaff.staff_id == StaffUser.id)
             .where(RoomStaff.room_id == room.id).order_by(RoomStaff.added_at))
    added = list((await session.execute(query)).scalars())
    creator = await session.get(StaffUser, room.created_by)
    return ([creator] if creator is not None else []) + added
