"""The invite link: a person's identity step (name + verification code), then the lobby.

An invitation admits one browser: the first that joins with the right code claims it, and only
that browser (its signed session names the participant) comes back through the link; any other
gets "already used" (409) and the host issues a new invitation. A code is checked only after an
attempt was counted in the database (5 wrong codes lock the invitation) and while the client's
address has wrong codes left (`server/throttle.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import invites as invites_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms import staff as staff_repo
from rooms.errors import InviteClaimed, NotFound
from rooms.models import Invite, Room
from rooms.names import InvalidName, guest_name
from server.auth.passwords import verify_secret_async
from server.auth.tokens import TokenError
from server.deps import CsrfDep, DbDep, ServicesDep
from server.i18n import N_, gettext, ngettext
from server.languages import LANGUAGES, is_supported
from server.locale import SESSION_KEY, UI_LOCALES, speak, supported
from server.sessions import participation, remember_participation
from server.templating import render
from server.throttle import client_address

router = APIRouter(tags=["join"])
NAME_PROBLEMS = (  # rooms/names.py says them in English; shown translated
    N_("Enter your name."), N_("A name can have at most 80 characters."),
    N_("Choose a name without a staff title (like counselor or host): pages show everyone's "
       "role beside their name."),
    N_("That is the name of a staff member. Enter your own name."),
)
LOCKED = N_("This invitation can no longer be used. Ask your counselor for a new one.")


async def _load(db: AsyncSession, services: ServicesDep, token: str) -> tuple[Invite, Room]:
    claims = services.tokens.read_invite(token)
    try:
        invite = await invites_repo.get_invite(db, claims.invite_id)
    except NotFound as exc:
        raise TokenError(N_("This invitation no longer exists.")) from exc
    room = await lifecycle.get_room(db, invite.room_id)
    lifecycle.ensure_not_ended(room)
    return invite, room


async def _returning(request: Request, db: AsyncSession, invite: Invite) -> Response | None:
    """The browser that claimed the invitation goes back to its room; any other is refused,
    as is everyone once the invitation is locked, revoked or expired."""
    if invite.claimed_at is not None:
        person = await participants_repo.of_invite(db, invite.id)
        if person is not None and participation(request, invite.room_id) == person.id:
            return RedirectResponse(f"/rooms/{invite.room_id}", status_code=303)
        raise InviteClaimed(participants_repo.USED_INVITATION)
    if not invites_repo.invite_usable(invite):
        raise TokenError(LOCKED)
    return None


def _page(request: Request, room: Room, token: str, status: int = 200, **extra: object) -> Response:
    speak(request, str(extra.get("language") or ""))  # the page speaks the language chosen on it
    context = {"room": room, "token": token, "languages": LANGUAGES, "ui_locales": UI_LOCALES,
               **extra}
    return render(request, "join.html", context, status_code=status)


@router.get("/join/{token}")
async def join_page(request: Request, token: str, db: DbDep, services: ServicesDep) -> Response:
    invite, room = await _load(db, services, token)
    back = await _returning(request, db, invite)
    if back is not None:
        return back
    if participation(request, room.id):
        return RedirectResponse(f"/rooms/{room.id}", status_code=303)
    asked = request.query_params.get("lang", "")
    return _page(request, room, token, name=invite.label,
                 language=asked if is_supported(asked) else "")


async def _code_problem(request: Request, services: ServicesDep, invite: Invite,
                        code: str) -> str | None:
    """Check the code once an attempt is counted (and committed, so that parallel requests see
    it); None when the code is right. No database connection is held while argon2 runs."""
    address = client_address(request)
    await services.throttles.join_address.check(address)
    async with services.transaction() as db:
        left = await invites_repo.reserve_attempt(db, invite.id)
    if left is None:
        raise TokenError(LOCKED)
    if await verify_secret_async(invite.code_hash, code.strip()):
        async with services.transaction() as db:  # a right code does not count as a try
            await invites_repo.give_back_attempt(db, invite.id)
        return None
    await services.throttles.join_address.count(address)
    if left:
        return ngettext("That code is not right. %(left)s try left.",
                        "That code is not right. %(left)s tries left.", left) % {"left": left}
    return gettext("That code is not right, and this invitation is now locked. "
                   "Ask your counselor.")


async def _identity(services: ServicesDep, invite: Invite, name: str, language: str,
                    transcription: str) -> tuple[str, str | None]:
    """The normalized name, and what is wrong with the form (None: nothing)."""
    try:
        async with services.transaction() as db:
            display_name = guest_name(name, await staff_repo.display_names(db),
                                      own_role=invite.role.value)
    except InvalidName as exc:
        return name, gettext(str(exc))
    return display_name, _identity_problem(language, transcription)


@router.post("/join/{token}", dependencies=[CsrfDep])
async def join(
    request: Request,
    token: str,
    services: ServicesDep,
    name: Annotated[str, Form(max_length=120)],
    code: Annotated[str, Form(max_length=32)],
    language: Annotated[str, Form(max_length=16)],
    transcription: Annotated[str, Form(pattern="^(yes|no)$")] = "",
) -> Response:
    async with services.transaction() as db:
        invite, room = await _load(db, services, token)
        back = await _returning(request, db, invite)
    if back is not None:
        return back
    speak(request, language)
    display_name, problem = await _identity(services, invite, name, language, transcription)
    problem = problem or await _code_problem(request, services, invite, code)
    if problem is not None:
        return _page(request, room, token, 400, error=problem, name=name, language=language,
                     transcription=transcription)
    async with services.transaction() as db:
        person = await participants_repo.join_with_invite(
            db, room=room, invite=invite, display_name=display_name, language=language,
            transcription_consent=transcription == "yes")
    remember_participation(request, room.id, person.id)
    if supported(language):
        request.session[SESSION_KEY] = supported(language)
    await services.events.people_changed(room.id)
    # the device check page comes first (skippable); it leads on to the lobby
    return RedirectResponse(f"/rooms/{room.id}/check", status_code=303)


def _identity_problem(language: str, transcription: str) -> str | None:
    if not is_supported(language):
        return gettext("Choose the language you want to use.")
    if not transcription:
        return gettext("Say whether your words may be transcribed.")
    return None
