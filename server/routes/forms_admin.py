"""Staff pages for form definitions: the list, the editor (admins; every saved change is a new
version), and sending a form: a link for one worker, made for a named person or for a worker
in one of the staff member's sessions."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import forms as forms_repo
from rooms import lifecycle
from rooms import participants as participants_repo
from rooms import submissions as submissions_repo
from rooms.errors import NotFound
from rooms.form_models import FormDefinition, Submitter
from rooms.models import Admission, Participant, RoomStatus, StaffUser, utcnow
from server.assignments import require_room_access, visible_rooms
from server.deps import CsrfDep, DbDep, StaffDep, require
from server.errors import Forbidden
from server.forms import editing
from server.forms.filling import submitter_role
from server.forms.kit import FormsKit, KitDep
from server.forms.links import FormClaims, form_path
from server.languages import LANGUAGES, is_supported
from server.permissions import Action, allowed, role_of_staff
from server.templating import render

router = APIRouter(tags=["forms"])
FLASH_LINK = "new_form_link"


def _may(staff: StaffUser, action: Action) -> bool:
    return allowed(role_of_staff(staff.role), action)


@router.get("/staff/forms")
async def forms_page(request: Request, db: DbDep, staff: StaffDep) -> Response:
    if not (_may(staff, Action.EDIT_FORMS) or _may(staff, Action.SEND_FORM_LINK)):
        require(staff, Action.EDIT_FORMS)
    return render(request, "forms_list.html", {
        "staff": staff, "forms": await forms_repo.list_forms(
            db, include_archived=_may(staff, Action.EDIT_FORMS)),
        "may_edit": _may(staff, Action.EDIT_FORMS),
        "may_send": _may(staff, Action.SEND_FORM_LINK),
        "may_review": _may(staff, Action.REVIEW_SUBMISSIONS),
    })


def _editor(request: Request, staff: StaffUser, form: FormDefinition | None, text: str,
            *, slug: str = "", problems: list[editing.Problem] | None = None,
            versions: list[object] | None = None, status: int = 200,
            saved: str = "") -> Response:
    return render(request, "form_edit.html", {
        "staff": staff, "form": form, "text": text, "slug": slug, "problems": problems or [],
        "versions": versions or [], "saved": saved,
    }, status_code=status)


@router.get("/staff/forms/new")
async def new_form_page(request: Request, staff: StaffDep) -> Response:
    require(staff, Action.EDIT_FORMS)
    return _editor(request, staff, None, editing.STARTER)


@router.post("/staff/forms", dependencies=[CsrfDep])
async def create_form(request: Request, db: DbDep, staff: StaffDep,
                      slug: Annotated[str, Form(max_length=64)],
                      definition: Annotated[str, Form(max_length=200_000)]) -> Response:
    require(staff, Action.EDIT_FORMS)
    spec, problems = editing.parse(definition)
    if not re.fullmatch(editing.SLUG, slug):
        problems.insert(0, editing.Problem("short name", "Use 2-63 lowercase letters, digits "
                                                         "and dashes, e.g. job-training."))
    elif await forms_repo.find_form(db, slug) is not None:
        problems.insert(0, editing.Problem("short name", f"A form named {slug} exists."))
    if spec is None or problems:
        return _editor(request, staff, None, definition, slug=slug, problems=problems,
                       status=400)
    form = await forms_repo.create_form(db, slug=slug, spec=spec, created_by=staff.id)
    return RedirectResponse(f"/staff/forms/{form.id}", status_code=303)


@router.get("/staff/forms/{form_id}")
async def edit_form_page(request: Request, form_id: str, db: DbDep, staff: StaffDep) -> Response:
    require(staff, Action.EDIT_FORMS)
    form = await forms_repo.get_form(db, form_id)
    current = await forms_repo.current_version(db, form)
    return _editor(request, staff, form, editing.dump(forms_repo.spec_of(current)),
                   slug=form.slug, versions=list(await forms_repo.versions(db, form.id)),
                   saved=request.query_params.get("saved", ""))


@router.post("/staff/forms/{form_id}", dependencies=[CsrfDep])
async def save_form(request: Request, form_id: str, db: DbDep, staff: StaffDep,
                    definition: Annotated[str, Form(max_length=200_000)]) -> Response:
    require(staff, Action.EDIT_FORMS)
    form = await forms_repo.get_form(db, form_id)
    spec, problems = editing.parse(definition)
    if spec is None:
        return _editor(request, staff, form, definition, slug=form.slug, problems=problems,
                       versions=list(await forms_repo.versions(db, form.id)), status=400)
    version = await forms_repo.save_version(db, form, spec, created_by=staff.id)
    saved = "same" if version is None else str(version.version)
    return RedirectResponse(f"/staff/forms/{form.id}?saved={saved}", status_code=303)


@router.post("/staff/forms/{form_id}/archive", dependencies=[CsrfDep])
async def archive_form(form_id: str, db: DbDep, staff: StaffDep,
                       archived: Annotated[bool, Form()] = True) -> Response:
    require(staff, Action.EDIT_FORMS)
    await forms_repo.set_archived(db, await forms_repo.get_form(db, form_id), archived)
    return RedirectResponse("/staff/forms", status_code=303)


# ---- sending a form ---------------------------------------------------------------------------


async def _room_workers(db: AsyncSession, staff: StaffUser) -> list[tuple[str, Participant]]:
    """Workers admitted to the staff member's current sessions: (session title, person)."""
    rooms = await visible_rooms(db, staff, await lifecycle.list_rooms(db, include_ended=False))
    found = []
    for room in rooms:
        if room.status is not RoomStatus.OPEN:
            continue
        for person in await participants_repo.list_participants(db, room.id, Admission.ADMITTED):
            if person.staff_id is None:
                found.append((room.title, person))
    return found


@router.get("/staff/forms/{form_id}/send")
async def send_page(request: Request, form_id: str, db: DbDep, staff: StaffDep,
                    kit: KitDep) -> Response:
    require(staff, Action.SEND_FORM_LINK)
    form = await forms_repo.get_form(db, form_id)
    return render(request, "form_send.html", {
        "staff": staff, "form": form, "languages": LANGUAGES,
        "room_workers": await _room_workers(db, staff),
        "submitters": await submissions_repo.recent_submitters(db),
        "new_link": request.session.pop(FLASH_LINK, None), "days": kit.link_days,
    })


async def _recipient(db: AsyncSession, staff: StaffUser, *, submitter_id: str,
                     participant_id: str, name: str, language: str,
                     reference: str) -> Submitter:
    if submitter_id:
        return await submissions_repo.get_submitter(db, submitter_id)
    if participant_id:
        person = await db.get(Participant, participant_id)
        if person is None:
            raise NotFound("no such participant")
        await require_room_access(db, staff, person.room_id)
        existing = await submissions_repo.submitter_of_participant(db, person.id)
        return existing or await submissions_repo.create_submitter(
            db, display_name=person.display_name, language=person.reading_language
            or person.language or "en", created_by=staff.id, reference=reference,
            participant_id=person.id)
    if not name.strip() or not is_supported(language):
        raise Forbidden("Give the person's name and language, or choose someone.")
    return await submissions_repo.create_submitter(
        db, display_name=name, language=language, created_by=staff.id, reference=reference)


def _link(request: Request, kit: FormsKit, submitter: Submitter, form: FormDefinition) -> str:
    expires = utcnow() + timedelta(days=kit.link_days)
    token = kit.links.token(FormClaims(submitter.id, form.id), expires)
    base = request.app.state.settings.public_url or str(request.base_url)
    return base.rstrip("/") + form_path(token)


@router.post("/staff/forms/{form_id}/links", dependencies=[CsrfDep])
async def send_form(
    request: Request, form_id: str, db: DbDep, staff: StaffDep, kit: KitDep,
    name: Annotated[str, Form(max_length=120)] = "",
    language: Annotated[str, Form(max_length=16)] = "",
    reference: Annotated[str, Form(max_length=64)] = "",
    submitter_id: Annotated[str, Form(max_length=32)] = "",
    participant_id: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """A link for one person to fill this form; shown once on the send page."""
    require(staff, Action.SEND_FORM_LINK)
    form = await forms_repo.get_form(db, form_id)
    submitter = await _recipient(db, staff, submitter_id=submitter_id,
                                 participant_id=participant_id, name=name, language=language,
                                 reference=reference)
    if not allowed(await submitter_role(db, submitter), Action.SUBMIT_FORM):
        raise Forbidden("Forms are filled by workers: this person's role in the session "
                        "does not fill forms.")
    request.session[FLASH_LINK] = {"link": _link(request, kit, submitter, form),
                                   "name": submitter.display_name,
                                   "language": LANGUAGES.get(submitter.language, "")}
    return RedirectResponse(f"/staff/forms/{form.id}/send#new-link", status_code=303)
