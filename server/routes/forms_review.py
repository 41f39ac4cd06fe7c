"""Staff review submissions: the list by status, one submission (answers, files, history),
status changes and comments (kept in its history, translated for the worker where a model
serves), a printable view, CSV export and the attachments."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import attachments as attachments_repo
from rooms import audit
from rooms import forms as forms_repo
from rooms import submissions as submissions_repo
from rooms.errors import NotFound
from rooms.form_models import Submission, SubmissionEvent, SubmissionStatus
from rooms.models import StaffUser
from server.deps import CsrfDep, DbDep, ServicesDep, StaffDep, require
from server.forms import export
from server.forms.filling import files_by_field
from server.forms.kit import KitDep
from server.forms.pages import STAFF_STATUS, file_response, staff_events, translate_event
from server.languages import LANGUAGES
from server.permissions import Action
from server.services import Services
from server.templating import render

router = APIRouter(tags=["forms"])


def _status(value: str) -> SubmissionStatus | None:
    try:
        return SubmissionStatus(value) if value else None
    except ValueError:
        return None


@router.get("/staff/submissions")
async def submissions_page(request: Request, db: DbDep, staff: StaffDep, services: ServicesDep,
                           status: Annotated[str, Query(max_length=16)] = "",
                           form: Annotated[str, Query(max_length=32)] = "") -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    chosen = _status(status)
    forms = await forms_repo.list_forms(db, include_archived=True)
    found = await submissions_repo.list_submissions(db, status=chosen, form_id=form or None)
    people = {s.submitter_id: await submissions_repo.get_submitter(db, s.submitter_id)
              for s in found}
    return render(request, "submissions.html", {
        "staff": staff, "submissions": found, "people": people, "chosen": status,
        "form_id": form, "forms": forms, "titles": {f.id: f.title for f in forms},
        "counts": await submissions_repo.count_by_status(db), "statuses": STAFF_STATUS,
        "zone": ZoneInfo(services.settings.timezone), "timezone": services.settings.timezone,
    })


@router.get("/staff/submissions.csv")
async def submissions_csv(db: DbDep, staff: StaffDep, services: ServicesDep,
                          status: Annotated[str, Query(max_length=16)] = "",
                          form: Annotated[str, Query(max_length=32)] = "") -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    found = await submissions_repo.list_submissions(db, status=_status(status),
                                                    form_id=form or None, limit=100_000)
    text = await export.csv_text(db, found, ZoneInfo(services.settings.timezone))
    await audit.record(db, staff=staff, action="submissions.export", room_id=None,
                       detail={"format": "csv", "entries": str(len(found)),
                               "status": status, "form": form})
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="submissions.csv"',
        "Cache-Control": "no-store"})


async def _context(db: AsyncSession, services: Services, staff: StaffUser,
                   submission: Submission) -> dict[str, object]:
    version = await forms_repo.get_version(db, submission.version_id)
    form = await forms_repo.get_form(db, submission.form_id)
    language = services.settings.staff_language
    return {
        "staff": staff, "submission": submission, "form": form, "version": version,
        "spec": forms_repo.spec_of(version),
        "person": await submissions_repo.get_submitter(db, submission.submitter_id),
        "files": files_by_field(await attachments_repo.of_submission(db, submission.id)),
        "events": staff_events(await submissions_repo.events_of(
            db, submission.id, include_internal=True), language),
        "statuses": STAFF_STATUS, "zone": ZoneInfo(services.settings.timezone),
        "timezone": services.settings.timezone, "languages": LANGUAGES,
    }


@router.get("/staff/submissions/{submission_id}")
async def submission_page(request: Request, submission_id: str, db: DbDep, staff: StaffDep,
                          services: ServicesDep) -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    submission = await submissions_repo.get_submission(db, submission_id)
    return render(request, "submission.html", await _context(db, services, staff, submission))


@router.get("/staff/submissions/{submission_id}/print")
async def submission_print(request: Request, submission_id: str, db: DbDep, staff: StaffDep,
                           services: ServicesDep) -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    submission = await submissions_repo.get_submission(db, submission_id)
    return render(request, "submission_print.html",
                  await _context(db, services, staff, submission))


@router.post("/staff/submissions/{submission_id}/status", dependencies=[CsrfDep])
async def change_status(submission_id: str, db: DbDep, staff: StaffDep, services: ServicesDep,
                        status: Annotated[SubmissionStatus, Form()],
                        comment: Annotated[str, Form(max_length=4000)] = "") -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    submission = await submissions_repo.get_submission(db, submission_id)
    event = await submissions_repo.change_status(
        db, submission, status, staff_id=staff.id, author_name=staff.display_name,
        comment=comment, language=services.settings.staff_language)
    await _translate_for_worker(db, services, submission, event)
    return RedirectResponse(f"/staff/submissions/{submission.id}#history", status_code=303)


@router.post("/staff/submissions/{submission_id}/comments", dependencies=[CsrfDep])
async def comment(submission_id: str, db: DbDep, staff: StaffDep, services: ServicesDep,
                  text: Annotated[str, Form(min_length=1, max_length=4000)],
                  internal: Annotated[bool, Form()] = False) -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    submission = await submissions_repo.get_submission(db, submission_id)
    event = await submissions_repo.add_comment(
        db, submission, text, author_name=staff.display_name, staff_id=staff.id,
        language=services.settings.staff_language, internal=internal)
    if not internal:
        await _translate_for_worker(db, services, submission, event)
    return RedirectResponse(f"/staff/submissions/{submission.id}#history", status_code=303)


async def _translate_for_worker(db: AsyncSession, services: Services, submission: Submission,
                                event: SubmissionEvent) -> None:
    person = await submissions_repo.get_submitter(db, submission.submitter_id)
    await translate_event(db, services, event, person.language)


@router.get("/staff/submissions/{submission_id}/attachments/{attachment_id}")
async def attachment(submission_id: str, attachment_id: str, db: DbDep, staff: StaffDep,
                     kit: KitDep) -> Response:
    require(staff, Action.REVIEW_SUBMISSIONS)
    found = await attachments_repo.get(db, attachment_id)
    if found.submission_id != submission_id:
        raise NotFound("no such attachment")
    await audit.record(db, staff=staff, action="attachment.download", room_id=None,
                       detail={"submission": submission_id, "attachment": attachment_id})
    return await file_response(kit, found)
