"""The interpreter's console: every speaker's captions beside their translations into every
reading language in use, live, with corrections in place. Listen-only: the page starts no
camera or microphone; it reads the room socket with the same token as the room page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rooms import lifecycle
from server.deps import DbDep, MaybeStaffDep, ServicesDep
from server.errors import Forbidden
from server.languages import LANGUAGES
from server.permissions import Action, allowed, role_in_room
from server.routes.room_page import _participant as room_participant
from server.routes.room_page import _token as room_token
from server.templating import render

router = APIRouter(tags=["interpretation"])


@router.get("/rooms/{room_id}/interpret")
async def console(request: Request, room_id: str, db: DbDep, services: ServicesDep,
                  staff: MaybeStaffDep) -> Response:
    """Interpreters only; the room page's own checks (admitted, assigned) come first."""
    person = await room_participant(request, room_id, db, services, staff)
    if not allowed(role_in_room(person.role), Action.USE_INTERPRETER_CONSOLE):
        raise Forbidden("The interpreter's console is for the session's interpreters.")
    room = await lifecycle.get_room(db, room_id)
    return render(request, "interpret.html", {
        "room": room, "me": person, "token": room_token(services, person), "staff": staff,
        "languages": LANGUAGES, "timezone": services.settings.timezone,
        "opened_at": room.opened_at.isoformat() if room.opened_at else "",
    })
