"""A worker's form pages, reached by the link staff send (`/f/{token}`; a room can open the same
address beside the video): the form in their language with their draft, autosave, uploads, the
submit, and what they sent with its status and messages. The link is the only key: every page
shows the link's submitter their own things only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.datastructures import FormData, UploadFile

from rooms import attachments as attachments_repo
from rooms import forms as forms_repo
from rooms import submissions as submissions_repo
from rooms.errors import Conflict
from rooms.form_schema import FieldType, FormSpec
from server.deps import DbDep, ServicesDep
from server.form_pushes import FormPushes
from server.forms import filling, validation
from server.forms.attachments import AttachmentRefused
from server.forms.kit import KitDep
from server.forms.messages import FieldError, Messages
from server.forms.pages import file_response, translate_event, worker_events
from server.languages import LANGUAGES, is_supported
from server.templating import render

router = APIRouter(tags=["forms"])
MAX_TEXT_PART = 64 * 1024
MULTIPART_SLACK = 256 * 1024


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _language(link: filling.Link, lang: str) -> str:
    return lang if is_supported(lang) else link.submitter.language


async def _fill_page(request: Request, db: DbDep, kit: KitDep, link: filling.Link, lang: str,
                     errors: dict[str, FieldError] | None = None, status: int = 200) -> Response:
    language = _language(link, lang)
    messages = Messages(language)
    if link.form.archived:  # no new answers; what was sent stays in view
        return render(request, "form_closed.html", {
            "link": link, "messages": messages, "lang": language,
            "submissions": await submissions_repo.submissions_of_submitter(db, link.submitter.id),
            "titles": await filling.titles_in(db, language)}, status_code=410)
    draft, spec = await filling.open_draft(db, link)
    shown = await kit.texts.shown(draft.version_id, spec, language)
    files = filling.files_by_field(await attachments_repo.of_draft(db, draft.id))
    return render(request, "form_fill.html", {
        "link": link, "form": shown, "spec": spec, "draft": draft, "answers": draft.answers,
        "files": files, "messages": messages, "language": language, "lang": language,
        "languages": LANGUAGES, "max_mb": kit.store.max_mb,
        "errors": {name: problem.text(messages) for name, problem in (errors or {}).items()},
        "submissions": await submissions_repo.submissions_of_submitter(db, link.submitter.id),
        "titles": await filling.titles_in(db, language),
    }, status_code=status)


@router.get("/f/{token}")
async def fill_page(request: Request, token: str, db: DbDep, kit: KitDep,
                    lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    link = await filling.open_link(db, kit, token)
    return await _fill_page(request, db, kit, link, lang)


@router.post("/f/{token}/language")
async def set_language(token: str, db: DbDep, kit: KitDep,
                       language: Annotated[str, Form(max_length=16)],
                       back: Annotated[str, Form(max_length=200)] = "") -> Response:
    link = await filling.open_link(db, kit, token)
    if is_supported(language):
        await submissions_repo.set_language(db, link.submitter, language)
    target = back if back.startswith(f"/f/{token}") else f"/f/{token}"
    return RedirectResponse(target, status_code=303)


@router.put("/f/{token}/draft")
async def save_draft(token: str, db: DbDep, kit: KitDep,
                     answers: Annotated[dict[str, str | bool | None], Body(embed=True)]
                     ) -> dict[str, Any]:
    """Autosave: the answers as typed so far (unchecked until the submit)."""
    link = await filling.open_link(db, kit, token)
    draft, spec = await filling.open_draft(db, link)
    await submissions_repo.save_answers(db, draft, validation.normalize(spec, answers))
    return {"draft_id": draft.id, "saves": draft.saves, "saved_at": draft.updated_at.isoformat()}


def _too_large(request: Request, kit: KitDep, files: int = 1) -> bool:
    declared = request.headers.get("content-length", "")
    limit = kit.store.max_bytes * files + MULTIPART_SLACK
    return declared.isdigit() and int(declared) > limit


@router.post("/f/{token}/attachments")
async def upload(request: Request, token: str, db: DbDep, kit: KitDep) -> Response:
    """One file for one file field of the draft (multipart: ``field``, ``file``)."""
    link = await filling.open_link(db, kit, token)
    messages = Messages(_language(link, request.query_params.get("lang", "")))
    if _too_large(request, kit):
        problem = FieldError("file_too_big", (("max_mb", kit.store.max_mb),))
        return _json_problem("file", problem, messages)
    draft, spec = await filling.open_draft(db, link)
    async with request.form(max_files=1, max_fields=4, max_part_size=MAX_TEXT_PART) as form:
        name, file = str(form.get("field", "")), form.get("file")
        if not isinstance(file, UploadFile):
            return _json_problem(name, FieldError("file_required"), messages)
        try:
            stored = await filling.store_upload(kit, spec, name, file)
            attachment = await filling.attach(db, kit, draft, name, file, stored)
        except AttachmentRefused as refused:
            return _json_problem(name, refused.problem, messages)
    return JSONResponse({"id": attachment.id, "field": name, "filename": attachment.filename,
                         "size": attachment.size, "content_type": attachment.content_type,
                         "sha256": attachment.sha256}, status_code=201)


def _json_problem(name: str, problem: FieldError, messages: Messages) -> Response:
    return JSONResponse({"error": {"code": problem.key, "field": name,
                                   "message": problem.text(messages)}},
                        status_code=413 if problem.key == "file_too_big" else 422)


@router.post("/f/{token}/attachments/{attachment_id}/delete")
async def remove_upload(request: Request, token: str, attachment_id: str, db: DbDep,
                        kit: KitDep) -> Response:
    """Take a file off the draft (not off a sent submission). A browser without scripts posts
    the whole form here (the button's ``formaction``): its answers are kept in the draft."""
    link = await filling.open_link(db, kit, token)
    attachment = await attachments_repo.of_submitter(db, link.submitter.id, attachment_id)
    if attachment.draft_id is None:
        raise Conflict("This file was sent with a form and stays with it.")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        draft, spec = await filling.open_draft(db, link)
        async with request.form(max_files=40, max_fields=300, max_part_size=MAX_TEXT_PART) as form:
            await submissions_repo.save_answers(
                db, draft, validation.normalize(spec, _raw_answers(form, spec)))
    await attachments_repo.remove(db, attachment)
    kit.store.delete(attachment.storage_key)
    if _wants_json(request):
        return JSONResponse({"removed": attachment_id})
    return RedirectResponse(f"/f/{token}#field-{attachment.field}", status_code=303)


def _raw_answers(form: FormData, spec: FormSpec) -> dict[str, str]:
    return {item.name: str(form.get(item.name, "")) for item in spec.fields
            if item.type is not FieldType.FILE and isinstance(form.get(item.name, ""), str)
            and item.name in form}


async def _uploads(db: DbDep, kit: KitDep, draft: Any, spec: FormSpec, form: FormData
                   ) -> dict[str, FieldError]:
    """Files sent with the form itself (a browser without scripts): kept on the draft. All are
    written to disk before the first database write (SQLite's write lock is not held while
    bytes move)."""
    problems: dict[str, FieldError] = {}
    kept = []
    for item in spec.fields:
        if item.type is not FieldType.FILE:
            continue
        for file in form.getlist(item.name):
            if not isinstance(file, UploadFile) or not file.filename:
                continue
            try:
                kept.append((item.name, file, await filling.store_upload(kit, spec, item.name,
                                                                         file)))
            except AttachmentRefused as refused:
                problems[item.name] = refused.problem
    for name, file, stored in kept:
        try:
            await filling.attach(db, kit, draft, name, file, stored)
        except AttachmentRefused as refused:
            problems[name] = refused.problem
    return problems


@router.post("/f/{token}")
async def submit(request: Request, token: str, db: DbDep, kit: KitDep, services: ServicesDep,
                 lang: Annotated[str, Query(max_length=16)] = "") -> Response:
    """Send the form. Answered only once the submission is stored; the same draft sent again
    (a retry after a lost answer) gets the submission it already made."""
    link = await filling.open_link(db, kit, token)
    language = _language(link, lang)
    if _too_large(request, kit, files=kit.files_per_field * 4):
        raise Conflict("The files are too large to send together. Attach them one by one.")
    async with request.form(max_files=40, max_fields=300, max_part_size=MAX_TEXT_PART) as form:
        page_draft = str(form.get("draft_id", ""))
        earlier = await filling.earlier_submission(db, link, page_draft)
        if earlier is None:
            draft, spec = await filling.open_draft(db, link)
            if page_draft and draft.id != page_draft:
                # the page's draft was sent after the look above (a second tap while the first
                # send was on its way): that submission, not a new draft without its files
                earlier = await filling.earlier_submission(db, link, page_draft)
        if earlier is not None:
            return _received(request, link, earlier.id, repeated=True)
        problems = await _uploads(db, kit, draft, spec, form)
        outcome = await filling.submit(db, link, draft, spec, _raw_answers(form, spec),
                                       problems)
    if outcome.submission is None:
        messages = Messages(language)
        if _wants_json(request):
            return JSONResponse({"errors": {name: p.text(messages)
                                            for name, p in outcome.errors.items()}},
                                status_code=422)
        return await _fill_page(request, db, kit, link, lang, outcome.errors, status=422)
    # the request's transaction commits before this answer leaves (DbDep); the room where the
    # form was pushed is told after that (a background task runs once the answer is sent)
    response = _received(request, link, outcome.submission.id, repeated=outcome.repeated)
    if not outcome.repeated and link.submitter.participant_id is not None:
        response.background = BackgroundTask(FormPushes(services).submitted,
                                             outcome.submission.id)
    return response


def _received(request: Request, link: filling.Link, submission_id: str, *, repeated: bool
              ) -> Response:
    url = f"/f/{link.token}/submissions/{submission_id}?sent=1"
    if _wants_json(request):
        return JSONResponse({"submission_id": submission_id, "url": url, "repeated": repeated},
                            status_code=200 if repeated else 201)
    return RedirectResponse(url, status_code=303)


@router.get("/f/{token}/submissions/{submission_id}")
async def my_submission(request: Request, token: str, submission_id: str, db: DbDep,
                        kit: KitDep, lang: Annotated[str, Query(max_length=16)] = "",
                        sent: Annotated[bool, Query()] = False) -> Response:
    link = await filling.open_link(db, kit, token)
    submission = await submissions_repo.submission_of(db, link.submitter.id, submission_id)
    version = await forms_repo.get_version(db, submission.version_id)
    language = _language(link, lang)
    messages = Messages(language)
    events = await submissions_repo.events_of(db, submission.id, include_internal=False)
    return render(request, "form_submission.html", {
        "link": link, "submission": submission, "messages": messages, "lang": language,
        "max_mb": kit.store.max_mb,
        "form": await kit.texts.shown(version.id, forms_repo.spec_of(version), language),
        "files": filling.files_by_field(await attachments_repo.of_submission(db, submission.id)),
        "events": worker_events(events, language, messages), "sent": sent,
        "file_fields": [f for f in forms_repo.spec_of(version).fields
                        if f.type is FieldType.FILE],
    })


@router.post("/f/{token}/submissions/{submission_id}/reply")
async def reply(token: str, submission_id: str, db: DbDep, kit: KitDep, services: ServicesDep,
                text: Annotated[str, Form(min_length=1, max_length=4000)]) -> Response:
    """The worker answers the staff's messages (translated for staff where a model serves)."""
    link = await filling.open_link(db, kit, token)
    submission = await submissions_repo.submission_of(db, link.submitter.id, submission_id)
    event = await submissions_repo.add_comment(
        db, submission, text, author_name=link.submitter.display_name,
        language=link.submitter.language)
    await translate_event(db, services, event, services.settings.staff_language)
    return RedirectResponse(f"/f/{token}/submissions/{submission.id}#messages", status_code=303)


@router.post("/f/{token}/submissions/{submission_id}/attachments")
async def add_file(request: Request, token: str, submission_id: str, db: DbDep, kit: KitDep
                   ) -> Response:
    """A file added to a sent form when the reviewer asked for more information (multipart:
    ``field``, ``file``)."""
    link = await filling.open_link(db, kit, token)
    submission = await submissions_repo.submission_of(db, link.submitter.id, submission_id)
    submissions_repo.ensure_open_for_files(submission)
    messages = Messages(link.submitter.language)
    if _too_large(request, kit):
        return _json_problem("file", FieldError("file_too_big", (("max_mb", kit.store.max_mb),)),
                             messages)
    spec = forms_repo.spec_of(await forms_repo.get_version(db, submission.version_id))
    async with request.form(max_files=1, max_fields=4, max_part_size=MAX_TEXT_PART) as form:
        name, file = str(form.get("field", "")), form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return _json_problem(name, FieldError("file_required"), messages)
        try:
            stored = await filling.store_upload(kit, spec, name, file)
            await filling.attach_late(db, kit, link, submission, name, file, stored)
        except AttachmentRefused as refused:
            return _json_problem(name, refused.problem, messages)
    return RedirectResponse(f"/f/{token}/submissions/{submission.id}#messages", status_code=303)


@router.get("/f/{token}/attachments/{attachment_id}")
async def my_attachment(token: str, attachment_id: str, db: DbDep, kit: KitDep) -> Response:
    link = await filling.open_link(db, kit, token)
    attachment = await attachments_repo.of_submitter(db, link.submitter.id, attachment_id)
    return await file_response(kit, attachment)
