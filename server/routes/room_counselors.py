"""A room's counselors: its host adds a colleague (covering a session, co-counseling), who then
reaches the room like its creator. Admins reach every room without being added (audited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import audit, lifecycle, room_staff
from rooms import staff as staff_repo
from rooms.audit import AuditAction
from rooms.errors import NotFound
from rooms.models import Room, StaffRole
from server.assignments import require_room_access
from server.deps import CsrfDep, DbDep, StaffDep, require
from server.errors import HttpError
from server.permissions import Action

router = APIRouter(tags=["rooms"])


async def counselors_context(db: AsyncSession, room: Room) -> dict[str, object]:
    """The room page's "Counselors" card: who belongs, and who could be added."""
    members = await room_staff.of_room(db, room)
    ids = {member.id for member in members}
    addable = [user for user in await staff_repo.list_staff(db)
               if user.role is StaffRole.COUNSELOR and user.active and user.id not in ids]
    return {"counselors": members, "counselor_accounts": addable}


@router.post("/staff/rooms/{room_id}/counselors", dependencies=[CsrfDep])
async def add_counselor(room_id: str, db: DbDep, staff: StaffDep,
                        staff_id: Annotated[str, Form(max_length=32)]) -> Response:
    require(staff, Action.ADD_COUNSELOR)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "add a counselor")
    lifecycle.ensure_not_ended(room)
    try:
        colleague = await staff_repo.get_staff(db, staff_id)
    except NotFound as exc:
        raise HttpError("No such counselor account.") from exc
    if await room_staff.add(db, room=room, counselor=colleague, added_by=staff) is not None:
        await audit.record(db, staff=staff, action=AuditAction.ADD_COUNSELOR, room_id=room.id,
                           detail={"counselor": colleague.display_name})
    return RedirectResponse(f"/staff/rooms/{room.id}#counselors", status_code=303)
