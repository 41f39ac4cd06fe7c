"""A worker's way through a form link: the submitter and form it names, their draft (made on
first use, of the version current then), uploads kept on the draft, and the submit that turns
the draft into a submission once, whatever the number of retries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from rooms import attachments as attachments_repo
from rooms import forms as forms_repo
from rooms import submissions as submissions_repo
from rooms.errors import Conflict
from rooms.form_models import Attachment, FormDefinition, FormDraft, Submission, Submitter
from rooms.form_schema import FieldType, FormSpec
from rooms.models import Admission, Participant
from server.errors import Forbidden
from server.forms import validation
from server.forms.attachments import AttachmentRefused, StoredFile, safe_filename
from server.forms.kit import FormsKit
from server.forms.messages import FieldError, error
from server.permissions import Action, Role, allowed, role_in_room


@dataclass(frozen=True, slots=True)
class Link:
    token: str
    submitter: Submitter
    form: FormDefinition


@dataclass(slots=True)
class Outcome:
    """What a submit did: the submission (made now or by an earlier try), or the problems."""

    submission: Submission | None = None
    errors: dict[str, FieldError] = field(default_factory=dict)
    repeated: bool = False


async def submitter_role(db: AsyncSession, submitter: Submitter) -> Role:
    """A link made for a room participant acts in that participant's role; others as workers."""
    if submitter.participant_id is None:
        return Role.WORKER
    person = await db.get(Participant, submitter.participant_id)
    return Role.WORKER if person is None else role_in_room(person.role)


async def open_link(db: AsyncSession, kit: FormsKit, token: str) -> Link:
    claims = kit.links.read(token)
    submitter = await submissions_repo.get_submitter(db, claims.submitter_id)
    if not allowed(await submitter_role(db, submitter), Action.SUBMIT_FORM):
        raise Forbidden("This link cannot be used to fill forms.")
    if await _sent_away(db, submitter):
        raise Forbidden("This link no longer works. Ask your counselor.")
    return Link(token, submitter, await forms_repo.get_form(db, claims.form_id))


async def _sent_away(db: AsyncSession, submitter: Submitter) -> bool:
    """A link made for a room participant stops working once the host removed (or did not
    admit) them."""
    if submitter.participant_id is None:
        return False
    person = await db.get(Participant, submitter.participant_id)
    return person is not None and person.admission in (Admission.REMOVED, Admission.DENIED)


async def open_draft(db: AsyncSession, link: Link) -> tuple[FormDraft, FormSpec]:
    if link.form.archived:
        raise Conflict("This form is no longer in use. Ask your counselor for the current one.")
    current = await forms_repo.current_version(db, link.form)
    draft = await submissions_repo.open_draft(db, link.submitter, link.form, current.id)
    return draft, forms_repo.spec_of(await forms_repo.get_version(db, draft.version_id))


async def titles_in(db: AsyncSession, language: str) -> dict[str, str]:
    """Each form's title in ``language`` where its current version has one stored."""
    titles = {}
    for form in await forms_repo.list_forms(db, include_archived=True):
        spec = forms_repo.spec_of(await forms_repo.current_version(db, form))
        stored = spec.translations.get(language)
        titles[form.id] = stored.title if stored and stored.title else spec.title
    return titles


def files_by_field(attachments: list[Attachment]) -> dict[str, list[Attachment]]:
    grouped: dict[str, list[Attachment]] = defaultdict(list)
    for attachment in attachments:
        grouped[attachment.field].append(attachment)
    return grouped


async def store_upload(kit: FormsKit, spec: FormSpec, name: str, upload: UploadFile
                       ) -> StoredFile:
    """Keep one uploaded file of the field ``name`` (refused with the reason)."""
    item = spec.field(name)
    if item is None or item.type is not FieldType.FILE:
        raise AttachmentRefused(error("not_a_file_field"))
    return await kit.store.save(upload)


async def attach(db: AsyncSession, kit: FormsKit, draft: FormDraft, name: str,
                 upload: UploadFile, stored: StoredFile) -> Attachment:
    return await _keep(db, kit, draft.submitter_id, name, upload, stored, draft_id=draft.id)


async def attach_late(db: AsyncSession, kit: FormsKit, link: Link, submission: Submission,
                      name: str, upload: UploadFile, stored: StoredFile) -> Attachment:
    """A file added to a sent submission (only while more information is asked for)."""
    attachment = await _keep(db, kit, submission.submitter_id, name, upload, stored,
                             submission_id=submission.id)
    await submissions_repo.add_late_file(
        db, submission, field=name, attachment_id=attachment.id, filename=attachment.filename,
        author_name=link.submitter.display_name, language=link.submitter.language)
    return attachment


async def _keep(db: AsyncSession, kit: FormsKit, submitter_id: str, name: str,
                upload: UploadFile, stored: StoredFile, *, draft_id: str | None = None,
                submission_id: str | None = None) -> Attachment:
    count = await attachments_repo.count_on_field(db, name, draft_id=draft_id,
                                                  submission_id=submission_id)
    if count >= kit.files_per_field:
        kit.store.delete(stored.key)
        raise AttachmentRefused(error("too_many_files", n=kit.files_per_field))
    return await attachments_repo.add(
        db, submitter_id=submitter_id, draft_id=draft_id, submission_id=submission_id,
        field=name, filename=safe_filename(upload.filename or "", stored.content_type),
        content_type=stored.content_type, size=stored.size, sha256=stored.sha256,
        storage_key=stored.key)


async def submit(db: AsyncSession, link: Link, draft: FormDraft, spec: FormSpec,
                 raw: Mapping[str, str], problems: Mapping[str, FieldError]) -> Outcome:
    """Save the answers on the draft, check them, and make the submission when they pass (or
    return the one a concurrent submit of the same draft made)."""
    try:
        await submissions_repo.save_answers(db, draft, validation.normalize(spec, raw))
    except submissions_repo.DraftGone:  # a concurrent submit of this draft made it
        earlier = await earlier_submission(db, link, draft.id)
        if earlier is None:
            raise
        return Outcome(earlier, repeated=True)
    files = files_by_field(await attachments_repo.of_draft(db, draft.id))
    checked = validation.check(spec, draft.answers,
                               {name: [a.id for a in found] for name, found in files.items()})
    errors = {**checked.errors, **problems}
    if errors:
        return Outcome(errors=errors)
    try:
        submission = await submissions_repo.submit(
            db, draft, checked.answers, link.submitter.language,
            author_name=link.submitter.display_name)
    except submissions_repo.AlreadySubmitted as raced:
        earlier = await earlier_submission(db, link, raced.draft_key)
        if earlier is None:
            raise
        return Outcome(earlier, repeated=True)
    return Outcome(submission)


async def earlier_submission(db: AsyncSession, link: Link, draft_key: str) -> Submission | None:
    """The submission a previous try of this draft made (a retried submit)."""
    if not draft_key:
        return None
    found = await submissions_repo.submission_of_draft(db, draft_key)
    return found if found is not None and found.submitter_id == link.submitter.id else None
