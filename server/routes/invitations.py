"""An invitation's short link, `/j/{code}`, which leads to its join page (the verification code
is still asked there), and a new verification code for an invitation nobody joined with yet.

A short-link code is 10 symbols of 31 (about 49.5 bits): unguessable by trying, the more so as
every unknown code counts against the client address's allowance of wrong invitation codes
(`COUNSEL_JOIN_LIMIT_PER_ADDRESS`, shared with the join page), and finding an invitation is not
joining it: the six-digit code is asked next, five wrong codes lock the invitation."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rooms import audit, invite_reveals, lifecycle
from rooms import invites as invites_repo
from rooms.errors import NotFound
from rooms.models import utcnow
from server.assignments import require_room_access
from server.auth.passwords import hash_secret_async, new_verification_code
from server.deps import CsrfDep, DbDep, ServicesDep, StaffDep, require
from server.i18n import N_
from server.invitations import long_link
from server.permissions import Action
from server.routes.rooms_admin import FLASH_INVITE, link_base
from server.throttle import client_address

router = APIRouter(tags=["join"])
SHORT_CODE = re.compile(r"[a-z0-9]{6,16}")
UNKNOWN = N_("This link is not known. Check it, or ask your counselor for a new one.")


@router.get("/j/{short_code}")
async def short_link(request: Request, short_code: str, db: DbDep,
                     services: ServicesDep) -> Response:
    address = client_address(request)
    await services.throttles.join_address.check(address)
    code = short_code.strip().lower()
    invite = await invites_repo.by_short_code(db, code) if SHORT_CODE.fullmatch(code) else None
    if invite is None:
        await services.throttles.join_address.count(address)
        raise NotFound(UNKNOWN)
    target = long_link(services, "", invite)
    if invite.language:
        target += f"?lang={invite.language}"
    return RedirectResponse(target, status_code=303)


@router.post("/staff/rooms/{room_id}/invites/{invite_id}/code", dependencies=[CsrfDep])
async def new_code(request: Request, room_id: str, invite_id: str, db: DbDep, staff: StaffDep,
                   services: ServicesDep) -> Response:
    """A fresh code (shown once, like a new invitation's): the old one stops working, the wrong
    tries start again and the invitation is valid for the default time again. Audited."""
    require(staff, Action.ISSUE_INVITE)
    room = await lifecycle.get_room(db, room_id)
    await require_room_access(db, staff, room.id, "issue an invitation")
    lifecycle.ensure_not_ended(room)
    invite = await invites_repo.get_invite(db, invite_id)
    if invite.room_id != room.id:
        raise NotFound("no such invitation")
    link_base(request, services)
    code = new_verification_code()
    await invites_repo.replace_code(
        db, invite, code_hash=await hash_secret_async(code),
        expires_at=utcnow() + timedelta(hours=services.settings.invite_ttl_hours))
    await audit.record(db, staff=staff, action=audit.AuditAction.NEW_INVITE_CODE,
                       room_id=room.id, detail={"invite_id": invite.id,
                                                "label": invite.label})
    request.session[FLASH_INVITE] = await invite_reveals.stash(
        db, invite_id=invite.id, staff_id=staff.id, code=code)
    return RedirectResponse(f"/staff/rooms/{room.id}#new-invite", status_code=303)
