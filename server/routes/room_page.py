"""The room page and the short-lived room token its socket uses."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from rooms import lifecycle
from rooms import participants as participants_repo
from rooms.errors import NotFound
from rooms.models import Admission, Participant, RoomRole
from server.assignments import (
    NOT_ASSIGNED,
    NOT_YOURS,
    participant_assigned,
    require_room_access,
)
from server.auth.tokens import RoomClaims
from server.deps import DbDep, MaybeStaffDep, ServicesDep
from server.errors import Forbidden
from server.languages import LANGUAGES
from server.locale import speak
from server.permissions import Action, allowed, role_of_staff
from server.routes.device_check import lobby_context
from server.sessions import participation, remember_participation
from server.templating import render

router = APIRouter(tags=["rooms"])


async def _participant(request: Request, room_id: str, db: DbDep, services: ServicesDep,
                       staff: MaybeStaffDep) -> Participant:
    room = await lifecycle.get_room(db, room_id)
    lifecycle.ensure_not_ended(room)
    participant_id = participation(request, room_id)
    if participant_id is not None:
        try:
            person = await participants_repo.get_participant(db, room_id, participant_id)
        except NotFound:
            person = None
        if person is not None and not await participant_assigned(db, person):
            raise Forbidden(NOT_ASSIGNED if person.role is RoomRole.INTERPRETER else NOT_YOURS)
        if person is not None and person.admission not in (Admission.DENIED, Admission.REMOVED):
            if person.staff_id is None:  # a worker's pages speak their language
                speak(request, person.language)
            return person
        if person is not None and person.admission is Admission.REMOVED:
            raise Forbidden("The host removed you from this session.")
        if person is not None:
            raise Forbidden("The host did not admit you to this session.")
    if staff is not None and allowed(role_of_staff(staff.role), Action.ENTER_ROOM_AS_STAFF):
        await require_room_access(db, staff, room_id, "enter the room")
        person = await participants_repo.join_as_staff(
            db, room=room, staff=staff, language=services.settings.staff_language)
        remember_participation(request, room_id, person.id)
        return person
    raise Forbidden("Open the invitation link you were sent to join this session.")


def _token(services: ServicesDep, person: Participant) -> str:
    ttl = timedelta(minutes=services.settings.room_token_ttl_minutes)
    return services.tokens.room_token(RoomClaims(person.id, person.room_id, person.role.value), ttl)


@router.get("/rooms/{room_id}")
async def room(request: Request, room_id: str, db: DbDep, services: ServicesDep,
               staff: MaybeStaffDep) -> Response:
    person = await _participant(request, room_id, db, services, staff)
    room = await lifecycle.get_room(db, room_id)
    return render(request, "room.html", {
        "room": room, "me": person, "token": _token(services, person), "staff": staff,
        "languages": LANGUAGES, "reading": participants_repo.reading_language(person),
        **await lobby_context(db, room),
    })


@router.get("/rooms/{room_id}/token")
async def room_token(request: Request, room_id: str, db: DbDep, services: ServicesDep,
                     staff: MaybeStaffDep) -> dict[str, str]:
    """A fresh socket token for reconnecting (the page's token may have expired)."""
    person = await _participant(request, room_id, db, services, staff)
    return {"token": _token(services, person), "participant_id": person.id}
