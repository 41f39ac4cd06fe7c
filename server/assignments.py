"""Interpreters work only in the rooms they are assigned to: one check for pages and sockets."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import interpreters as interpreters_repo
from rooms.models import Participant, Room, RoomRole, StaffRole, StaffUser
from server.errors import Forbidden

NOT_ASSIGNED = "You are not assigned to interpret this session."


async def may_work_in(session: AsyncSession, staff: StaffUser, room_id: str) -> bool:
    """Staff other than interpreters may work in any room; interpreters in theirs."""
    if staff.role is not StaffRole.INTERPRETER:
        return True
    return await interpreters_repo.is_assigned(session, room_id, staff.id)


async def require_room_access(session: AsyncSession, staff: StaffUser, room_id: str) -> None:
    if not await may_work_in(session, staff, room_id):
        raise Forbidden(NOT_ASSIGNED)


async def participant_assigned(session: AsyncSession, person: Participant) -> bool:
    """An interpreter participant is still assigned to their room (others always pass)."""
    if person.role is not RoomRole.INTERPRETER:
        return True
    return await interpreters_repo.is_assigned(session, person.room_id, person.staff_id)


async def visible_rooms(session: AsyncSession, staff: StaffUser, rooms: list[Room]) -> list[Room]:
    """The rooms a staff member's dashboard lists."""
    if staff.role is not StaffRole.INTERPRETER:
        return rooms
    return [room for room in rooms if await interpreters_repo.is_assigned(
        session, room.id, staff.id)]
