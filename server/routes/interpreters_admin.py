"""Staff assign interpreters to a room (with the languages they interpret) or take them off it.

Only an assigned interpreter may enter the room, correct its captions or speak into its
language channels; an interpreter's dashboard lists only the rooms they are assigned to.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from rooms import interpreters as interpreters_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms import staff as staff_repo
from rooms.errors import NotFound
from rooms.models import StaffRole, StaffUser
from server.assignments import require_room_access
from server.deps import CsrfDep, DbDep, ServicesDep, StaffDep, require
from server.errors import HttpError
from server.events import to_participant
from server.languages import is_supported
from server.permissions import Action
from server.ws import protocol as p

router = APIRouter(tags=["interpreters"])


@router.post("/staff/rooms/{room_id}/interpreters", dependencies=[CsrfDep])
async def assign(
    room_id: str,
    db: DbDep,
    staff: StaffDep,
    staff_id: Annotated[str, Form(max_length=32)],
    languages: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
) -> Response:
    require(staff, Action.ASSIGN_INTERPRETER)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "assign an interpreter")
    lifecycle.ensure_not_ended(room)
    if not languages or not all(is_supported(code) for code in languages):
        raise HttpError("Choose the languages this interpreter interprets.")
    try:
        interpreter = await staff_repo.get_staff(db, staff_id)
    except NotFound as exc:
        raise HttpError("No such interpreter account.") from exc
    await interpreters_repo.assign(db, room_id=room.id, interpreter=interpreter,
                                   languages=languages, assigned_by=staff)
    return RedirectResponse(f"/staff/rooms/{room.id}#interpreters", status_code=303)


@router.post("/staff/rooms/{room_id}/interpreters/{staff_id}/remove", dependencies=[CsrfDep])
async def unassign(room_id: str, staff_id: str, db: DbDep, services: ServicesDep,
                   staff: StaffDep) -> Response:
    """Take an interpreter off the room: stored first, then their sockets (on every node) are
    closed with a final message, and their voice channel and media here end."""
    require(staff, Action.ASSIGN_INTERPRETER)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "take an interpreter off")
    await interpreters_repo.unassign(db, room_id=room.id, staff_id=staff_id)
    person = await participants_repo.staff_participant(db, room.id, staff_id)
    await db.commit()
    if person is not None:
        await services.events.send(room.id, to_participant(person.id), p.Removed(
            participant_id=person.id, message="You are no longer assigned to this session."))
        services.media.set_channel(room.id, person.id, None)
        await services.media.leave(room.id, person.id)
        await services.events.people_changed(room.id)
    return RedirectResponse(f"/staff/rooms/{room.id}#interpreters", status_code=303)


async def interpreter_accounts(db: DbDep) -> list[StaffUser]:
    """Active interpreter accounts, for the assignment form."""
    return [user for user in await staff_repo.list_staff(db)
            if user.role is StaffRole.INTERPRETER and user.active]
