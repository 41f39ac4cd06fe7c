"""Staff pages for rooms: dashboard, schedule, invite, open, end, enter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rooms import interpreters as interpreters_repo
from rooms import invite_reveals, lifecycle
from rooms import invites as invites_repo
from rooms import participants as participants_repo
from rooms.models import INVITABLE_ROLES, Room, RoomRole, RoomStatus, StaffUser, utcnow
from server import invitations
from server.assignments import require_room_access, visible_rooms
from server.auth.passwords import hash_secret_async, new_verification_code
from server.deps import CsrfDep, DbDep, ServicesDep, StaffDep, require
from server.errors import HttpError
from server.i18n import gettext
from server.invitations import Revealed
from server.languages import LANGUAGES, is_supported
from server.permissions import Action, allowed, role_of_staff
from server.routes.interpreters_admin import interpreter_accounts
from server.routes.room_counselors import counselors_context
from server.sessions import remember_participation
from server.templating import render

router = APIRouter(tags=["rooms"])
FLASH_INVITE = "new_invite"


def _parse_start(value: str, zone: str) -> datetime | None:
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        return None
    return local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local


def _form_problem(title: str, starts: datetime | None, languages: list[str]) -> str | None:
    if not title.strip():
        return gettext("Give the session a title.")
    if starts is None:
        return gettext("Enter the start date and time.")
    unknown = [code for code in languages if not is_supported(code)]
    if unknown:
        return gettext("Unsupported language: %(codes)s.") % {"codes": ", ".join(unknown)}
    return None


@router.get("/staff")
async def dashboard(request: Request, db: DbDep, staff: StaffDep) -> Response:
    require(staff, Action.VIEW_DASHBOARD)
    rooms = await visible_rooms(db, staff, await lifecycle.list_rooms(db))
    current = [room.id for room in rooms if room.status is not RoomStatus.ENDED]
    waiting = await participants_repo.waiting_by_room(db, current)
    return render(request, "dashboard.html", {"staff": staff, "rooms": rooms, "waiting": waiting})


@router.get("/api/staff/waiting")
async def waiting_api(db: DbDep, staff: StaffDep) -> dict[str, list[dict[str, object]]]:
    """Who waits in which lobby, for the dashboard's live list (polled by the page)."""
    require(staff, Action.VIEW_DASHBOARD)
    current = await visible_rooms(db, staff, await lifecycle.list_rooms(db, include_ended=False))
    waiting = await participants_repo.waiting_by_room(db, [room.id for room in current])
    rooms: list[dict[str, object]] = [
        {"room_id": room.id, "title": room.title, "waiting": [
            {"id": x.id, "name": x.display_name, "role": x.role.value} for x in waiting[room.id]]}
        for room in current
    ]
    return {"rooms": rooms}


@router.get("/staff/rooms/new")
async def new_room_page(request: Request, staff: StaffDep, services: ServicesDep) -> Response:
    require(staff, Action.CREATE_ROOM)
    return render(request, "room_form.html", {
        "staff": staff, "room": None, "languages": LANGUAGES, "chosen": ["ko"],
        "timezone": services.settings.timezone, "starts": "",
    })


@router.post("/staff/rooms", dependencies=[CsrfDep])
async def create_room(
    request: Request,
    db: DbDep,
    staff: StaffDep,
    services: ServicesDep,
    title: Annotated[str, Form(max_length=200)],
    starts_at: Annotated[str, Form(max_length=40)],
    languages: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
    auto_admit: Annotated[bool, Form()] = False,
) -> Response:
    require(staff, Action.CREATE_ROOM)
    zone = services.settings.timezone
    starts = _parse_start(starts_at, zone)
    problem = _form_problem(title, starts, languages)
    if problem is not None or starts is None:
        return render(request, "room_form.html", {
            "staff": staff, "room": None, "languages": LANGUAGES, "chosen": languages,
            "timezone": zone, "starts": starts_at, "title": title, "error": problem,
        }, status_code=400)
    room = await lifecycle.create_room(db, title=title, starts_at=starts, languages=languages,
                                       created_by=staff.id, auto_admit=auto_admit)
    return RedirectResponse(f"/staff/rooms/{room.id}", status_code=303)


@router.get("/staff/rooms/{room_id}")
async def room_admin_page(request: Request, room_id: str, db: DbDep, staff: StaffDep,
                          services: ServicesDep) -> Response:
    require(staff, Action.VIEW_DASHBOARD)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "view the room's page")
    return render(request, "room_admin.html", {
        **await counselors_context(db, room),
        "interpreters": await interpreters_repo.of_room(db, room.id),
        "interpreter_accounts": await interpreter_accounts(db),
        "staff_permissions": {a.value for a in Action if allowed(role_of_staff(staff.role), a)},
        "staff": staff, "room": room, "languages": LANGUAGES,
        "invites": [(x, invites_repo.state_of(x), invitations.short_path(x))
                    for x in await invites_repo.list_invites(db, room.id)],
        "people": await participants_repo.list_participants(db, room.id),
        "new_invite": await _revealed_invite(request, db, services, staff, room),
        "roles": INVITABLE_ROLES, "timezone": services.settings.timezone,
        "local_start": room.starts_at.astimezone(ZoneInfo(services.settings.timezone)),
        "ttl_hours": int(services.settings.invite_ttl_hours),
    })


@router.post("/staff/rooms/{room_id}/schedule", dependencies=[CsrfDep])
async def edit_room(
    request: Request, room_id: str, db: DbDep, staff: StaffDep, services: ServicesDep,
    title: Annotated[str, Form(max_length=200)],
    starts_at: Annotated[str, Form(max_length=40)],
    languages: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
) -> Response:
    require(staff, Action.EDIT_ROOM)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "edit the room")
    starts = _parse_start(starts_at, services.settings.timezone)
    problem = _form_problem(title, starts, languages)
    if problem is not None or starts is None:
        return render(request, "error.html", {"title": gettext("Check the form"),
                                              "message": problem, "staff_session": True},
                      status_code=400)
    await lifecycle.update_schedule(db, room, title=title, starts_at=starts, languages=languages)
    return RedirectResponse(f"/staff/rooms/{room.id}", status_code=303)


@router.post("/staff/rooms/{room_id}/invites", dependencies=[CsrfDep])
async def issue_invite(
    request: Request, room_id: str, db: DbDep, staff: StaffDep, services: ServicesDep,
    role: Annotated[RoomRole, Form()],
    label: Annotated[str, Form(max_length=120)] = "",
    valid_hours: Annotated[float | None, Form(gt=0, le=24 * 30)] = None,
    language: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    require(staff, Action.ISSUE_INVITE)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "issue an invitation")
    link_base(request, services)  # no invitation that could not be linked to
    code = new_verification_code()
    hours = valid_hours or services.settings.invite_ttl_hours
    invite = await invites_repo.create_invite(
        db, room=room, role=role, label=label, code_hash=await hash_secret_async(code),
        expires_at=utcnow() + timedelta(hours=hours), created_by=staff.id,
        language=language if is_supported(language) else "")
    request.session[FLASH_INVITE] = await invite_reveals.stash(
        db, invite_id=invite.id, staff_id=staff.id, code=code)
    return RedirectResponse(f"/staff/rooms/{room.id}#new-invite", status_code=303)


def link_base(request: Request, services: ServicesDep) -> str:
    """COUNSEL_PUBLIC_URL, or the request's own URL: its Host passed the allow-list
    (TrustedHostMiddleware), unless the operator allowed every host ("*")."""
    if services.settings.public_url:
        return services.settings.public_url.rstrip("/")
    if "*" in services.settings.trusted_hosts:
        raise HttpError("Set COUNSEL_PUBLIC_URL: this server answers to any host name, so it "
                        "cannot tell which address to put in invitation links.")
    return str(request.base_url).rstrip("/")


async def _revealed_invite(request: Request, db: DbDep, services: ServicesDep,
                           staff: StaffUser, room: Room) -> Revealed | None:
    """The invitation just issued or given a new code (its links, code and ready message,
    shown this once), if any."""
    reveal_id = request.session.pop(FLASH_INVITE, None)
    if not isinstance(reveal_id, str):
        return None
    found = await invite_reveals.take(db, reveal_id, staff.id)
    if found is None:
        return None
    invite, code = found
    return invitations.reveal(services, link_base(request, services), invite, room, code)


async def _transition(room: Room, target: RoomStatus, services: ServicesDep,
                      db: DbDep) -> Response:
    await lifecycle.transition(db, room, target)
    admitted = await participants_repo.admit_all_waiting(db, room) if room.auto_admit else []
    await db.commit()
    await services.events.room_changed(room)
    if target is RoomStatus.ENDED:
        await services.events.ended(room.id)
        await services.media.end_room(room.id)
        await services.captions.end_room(room.id)
    else:
        await services.events.admitted(room.id, admitted)
    return RedirectResponse(f"/staff/rooms/{room.id}", status_code=303)


@router.post("/staff/rooms/{room_id}/open", dependencies=[CsrfDep])
async def open_room(room_id: str, db: DbDep, staff: StaffDep, services: ServicesDep) -> Response:
    require(staff, Action.OPEN_ROOM)
    await require_room_access(db, staff, room_id, "open the room")
    return await _transition(await lifecycle.get_room(db, room_id), RoomStatus.OPEN, services, db)


@router.post("/staff/rooms/{room_id}/end", dependencies=[CsrfDep])
async def end_room(room_id: str, db: DbDep, staff: StaffDep, services: ServicesDep) -> Response:
    require(staff, Action.END_ROOM)
    await require_room_access(db, staff, room_id, "end the room")
    return await _transition(await lifecycle.get_room(db, room_id), RoomStatus.ENDED, services, db)


@router.post("/staff/rooms/{room_id}/auto-admit", dependencies=[CsrfDep])
async def auto_admit(room_id: str, db: DbDep, staff: StaffDep, services: ServicesDep,
                     enabled: Annotated[bool, Form()] = False) -> Response:
    require(staff, Action.SET_AUTO_ADMIT)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "set automatic admission")
    await lifecycle.set_auto_admit(db, room, enabled)
    admitted = await participants_repo.admit_all_waiting(db, room) if enabled else []
    await db.commit()
    await services.events.room_changed(room)
    await services.events.admitted(room.id, admitted)
    return RedirectResponse(f"/staff/rooms/{room.id}", status_code=303)


@router.post("/staff/rooms/{room_id}/enter", dependencies=[CsrfDep])
async def enter_room(request: Request, room_id: str, db: DbDep, services: ServicesDep,
                     staff: StaffDep) -> Response:
    require(staff, Action.ENTER_ROOM_AS_STAFF)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "enter the room")
    participant = await participants_repo.join_as_staff(
        db, room=room, staff=staff, language=services.settings.staff_language)
    remember_participation(request, room.id, participant.id)
    return RedirectResponse(f"/rooms/{room.id}", status_code=303)
