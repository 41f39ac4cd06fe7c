"""Who reaches which room, one check for pages and sockets: interpreters the rooms they are
assigned to, counselors the rooms they created or were added to (`rooms/room_staff.py`), admins
every room (`reach_any_room`) — and an admin in a room not theirs is written to the audit log."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rooms import audit, lifecycle, room_staff
from rooms import interpreters as interpreters_repo
from rooms.audit import AuditAction
from rooms.models import Participant, Room, RoomRole, StaffRole, StaffUser
from server.errors import Forbidden
from server.permissions import Action, allowed, role_of_staff

NOT_ASSIGNED = "You are not assigned to interpret this session."
NOT_YOURS = "This session is not yours: ask its counselor to add you to it."


async def _belongs(session: AsyncSession, staff: StaffUser, room: Room) -> bool:
    if staff.role is StaffRole.INTERPRETER:
        return await interpreters_repo.is_assigned(session, room.id, staff.id)
    return await room_staff.is_member(session, room, staff.id)


async def may_work_in(session: AsyncSession, staff: StaffUser, room_id: str) -> bool:
    """Whether the staff member reaches the room (admins always do)."""
    if allowed(role_of_staff(staff.role), Action.REACH_ANY_ROOM):
        return True
    return await _belongs(session, staff, await lifecycle.get_room(session, room_id))


async def require_room_access(session: AsyncSession, staff: StaffUser, room_id: str,
                              doing: str = "open the room") -> None:
    """Refuse a staff member the room unless it is theirs; an admin's access to a room not
    theirs is allowed and audited (in the request's transaction, before anything is shown)."""
    room = await lifecycle.get_room(session, room_id)
    if await _belongs(session, staff, room):
        return
    if not allowed(role_of_staff(staff.role), Action.REACH_ANY_ROOM):
        raise Forbidden(NOT_ASSIGNED if staff.role is StaffRole.INTERPRETER else NOT_YOURS)
    await audit.record(session, staff=staff, action=AuditAction.ADMIN_ROOM_ACCESS,
                       room_id=room.id, detail={"doing": doing})


async def participant_assigned(session: AsyncSession, person: Participant) -> bool:
    """An interpreter participant is still assigned to their room, a staff participant's room
    is still theirs (a counselor who entered before rooms had members, an account switched
    off); invited guests always pass."""
    if person.role is RoomRole.INTERPRETER:
        return await interpreters_repo.is_assigned(session, person.room_id, person.staff_id)
    if person.staff_id is None:
        return True
    staff = await session.get(StaffUser, person.staff_id)
    return staff is not None and staff.active and await may_work_in(session, staff,
                                                                    person.room_id)


async def visible_rooms(session: AsyncSession, staff: StaffUser, rooms: list[Room]) -> list[Room]:
    """The rooms a staff member's dashboard lists: every room for admins, their own for the
    others."""
    if allowed(role_of_staff(staff.role), Action.REACH_ANY_ROOM):
        return rooms
    if staff.role is StaffRole.INTERPRETER:
        return [room for room in rooms if await interpreters_repo.is_assigned(
            session, room.id, staff.id)]
    added = await room_staff.member_room_ids(session, staff.id)
    return [room for room in rooms if room.created_by == staff.id or room.id in added]
