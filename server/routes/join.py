"""The invite link: a person's identity step (name + verification code), then the lobby."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from rooms import invites as invites_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms.errors import NotFound
from rooms.models import Invite, Room
from server.auth.passwords import verify_secret
from server.auth.tokens import TokenError
from server.deps import CsrfDep, DbDep, ServicesDep
from server.languages import LANGUAGES, is_supported
from server.sessions import participation, remember_participation
from server.templating import render

router = APIRouter(tags=["join"])


async def _load(db: DbDep, services: ServicesDep, token: str) -> tuple[Invite, Room]:
    claims = services.tokens.read_invite(token)
    try:
        invite = await invites_repo.get_invite(db, claims.invite_id)
    except NotFound as exc:
        raise TokenError("this invitation no longer exists") from exc
    room = await lifecycle.get_room(db, invite.room_id)
    lifecycle.ensure_not_ended(room)
    if not invites_repo.invite_usable(invite):
        raise TokenError("this invitation can no longer be used; ask your counselor for a new one")
    return invite, room


def _page(request: Request, room: Room, token: str, status: int = 200, **extra: object) -> Response:
    context = {"room": room, "token": token, "languages": LANGUAGES, **extra}
    return render(request, "join.html", context, status_code=status)


@router.get("/join/{token}")
async def join_page(request: Request, token: str, db: DbDep, services: ServicesDep) -> Response:
    invite, room = await _load(db, services, token)
    if participation(request, room.id):
        return RedirectResponse(f"/rooms/{room.id}", status_code=303)
    return _page(request, room, token, name=invite.label, language="")


@router.post("/join/{token}", dependencies=[CsrfDep])
async def join(
    request: Request,
    token: str,
    db: DbDep,
    services: ServicesDep,
    name: Annotated[str, Form(max_length=120)],
    code: Annotated[str, Form(max_length=32)],
    language: Annotated[str, Form(max_length=16)],
    transcription: Annotated[str, Form(pattern="^(yes|no)$")] = "",
) -> Response:
    invite, room = await _load(db, services, token)
    problem = _identity_problem(name, language) or (
        None if transcription else "Say whether your words may be transcribed.")
    if problem is None and not verify_secret(invite.code_hash, code.strip()):
        left = await invites_repo.record_failed_attempt(db, invite)
        await db.commit()
        problem = f"That code is not right. {left} tries left." if left else (
            "That code is not right, and this invitation is now locked. Ask your counselor.")
    if problem is not None:
        return _page(request, room, token, 400, error=problem, name=name, language=language,
                     transcription=transcription)
    person = await participants_repo.join_with_invite(
        db, room=room, invite=invite, display_name=name, language=language,
        transcription_consent=transcription == "yes")
    await db.commit()
    remember_participation(request, room.id, person.id)
    await services.events.people_changed(room.id)
    return RedirectResponse(f"/rooms/{room.id}", status_code=303)


def _identity_problem(name: str, language: str) -> str | None:
    if not name.strip():
        return "Enter your name."
    if not is_supported(language):
        return "Choose the language you want to use."
    return None
