"""Before the call: the device check page (camera, microphone, speaker) between the join page
and the lobby, and what the lobby tells a waiting person (who admits them, and when the session
is scheduled). The page itself is all in the browser (`web/static/device-check.js`); the devices
chosen there are remembered in the browser for the room page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import lifecycle, room_staff
from rooms.models import Room
from server.assignments import require_room_access
from server.deps import DbDep, MaybeStaffDep
from server.errors import Forbidden
from server.sessions import participation
from server.templating import render

router = APIRouter(tags=["rooms"])


async def lobby_context(db: AsyncSession, room: Room) -> dict[str, object]:
    """The room's counselors (who will admit a waiting person) and its scheduled start."""
    counselors = await room_staff.of_room(db, room)
    return {"hosts": [c.display_name for c in counselors], "starts_at": room.starts_at}


@router.get("/rooms/{room_id}/check")
async def device_check(request: Request, room_id: str, db: DbDep,
                       staff: MaybeStaffDep) -> Response:
    room = await lifecycle.get_room(db, room_id)
    lifecycle.ensure_not_ended(room)
    if participation(request, room_id) is None:
        if staff is None:
            raise Forbidden("Open the invitation link you were sent to join this session.")
        await require_room_access(db, staff, room_id, "enter the room")
    return render(request, "device_check.html", {
        "room": room, "staff": staff, **await lobby_context(db, room)})
