"""Submitters, their drafts and submissions, and each submission's history (status changes and
comments). A submission is made from a draft once; submitting the same draft again returns the
submission it made."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from rooms.errors import Conflict, NotFound
from rooms.form_models import (
    Attachment,
    EventKind,
    FormDefinition,
    FormDraft,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Submitter,
)
from rooms.models import utcnow


class AlreadySubmitted(Conflict):
    """Another request submitted this draft first."""

    def __init__(self, draft_key: str) -> None:
        super().__init__("this form was already sent")
        self.draft_key = draft_key


async def create_submitter(session: AsyncSession, *, display_name: str, language: str,
                           created_by: str, reference: str = "",
                           participant_id: str | None = None) -> Submitter:
    person = Submitter(display_name=display_name.strip(), language=language,
                       reference=reference.strip(), participant_id=participant_id,
                       created_by=created_by)
    session.add(person)
    await session.flush()
    return person


async def get_submitter(session: AsyncSession, submitter_id: str) -> Submitter:
    person = await session.get(Submitter, submitter_id)
    if person is None:
        raise NotFound("no such person")
    return person


async def submitter_of_participant(session: AsyncSession, participant_id: str
                                   ) -> Submitter | None:
    query = (select(Submitter).where(Submitter.participant_id == participant_id)
             .order_by(Submitter.created_at).limit(1))
    return (await session.execute(query)).scalar_one_or_none()


async def recent_submitters(session: AsyncSession, limit: int = 50) -> list[Submitter]:
    query = select(Submitter).order_by(Submitter.created_at.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def set_language(session: AsyncSession, person: Submitter, language: str) -> None:
    person.language = language
    await session.flush()


# ---- drafts -----------------------------------------------------------------------------------


async def find_draft(session: AsyncSession, submitter_id: str, form_id: str) -> FormDraft | None:
    query = select(FormDraft).where(FormDraft.submitter_id == submitter_id,
                                    FormDraft.form_id == form_id)
    return (await session.execute(query)).scalar_one_or_none()


async def open_draft(session: AsyncSession, submitter: Submitter, form: FormDefinition,
                     version_id: str) -> FormDraft:
    """The submitter's draft of the form, made on first use (of ``version_id``)."""
    draft = await find_draft(session, submitter.id, form.id)
    if draft is not None:
        return draft
    draft = FormDraft(submitter_id=submitter.id, form_id=form.id, version_id=version_id,
                      answers={}, saves=0)
    try:
        async with session.begin_nested():
            session.add(draft)
            await session.flush()
    except IntegrityError:  # another request made it first
        found = await find_draft(session, submitter.id, form.id)
        if found is None:
            raise
        return found
    return draft


class DraftGone(Conflict):
    """The draft was submitted (or removed) by another request meanwhile."""


async def save_answers(session: AsyncSession, draft: FormDraft, answers: dict[str, Any]) -> None:
    """Replace the draft's answers (one UPDATE; `DraftGone` when the row is no longer there)."""
    now = utcnow()
    result = await session.execute(
        update(FormDraft).where(FormDraft.id == draft.id)
        .values(answers=dict(answers), saves=FormDraft.saves + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 1) == 0:
        raise DraftGone("this draft was already sent")
    set_committed_value(draft, "answers", dict(answers))
    set_committed_value(draft, "saves", draft.saves + 1)
    set_committed_value(draft, "updated_at", now)


# ---- submitting -------------------------------------------------------------------------------


async def submission_of_draft(session: AsyncSession, draft_key: str) -> Submission | None:
    query = select(Submission).where(Submission.draft_key == draft_key)
    return (await session.execute(query)).scalar_one_or_none()


async def submit(session: AsyncSession, draft: FormDraft, answers: dict[str, Any],
                 language: str, *, author_name: str = "") -> Submission:
    """The draft becomes a submission with its attachments, and the draft is gone. A draft
    submitted by a concurrent request meanwhile raises `AlreadySubmitted`."""
    submission = Submission(form_id=draft.form_id, version_id=draft.version_id,
                            submitter_id=draft.submitter_id, draft_key=draft.id,
                            answers=dict(answers), language=language,
                            status=SubmissionStatus.SUBMITTED)
    try:
        async with session.begin_nested():
            session.add(submission)
            await session.flush()
    except IntegrityError as exc:
        raise AlreadySubmitted(draft.id) from exc
    session.add(SubmissionEvent(submission_id=submission.id, kind=EventKind.SUBMITTED,
                                to_status=SubmissionStatus.SUBMITTED.value, author_name=author_name,
                                text="", language=language))
    await session.execute(update(Attachment).where(Attachment.draft_id == draft.id)
                          .values(submission_id=submission.id, draft_id=None))
    await session.execute(delete(FormDraft).where(FormDraft.id == draft.id))
    session.expunge(draft)
    return submission


# ---- reading ----------------------------------------------------------------------------------


async def get_submission(session: AsyncSession, submission_id: str) -> Submission:
    submission = await session.get(Submission, submission_id)
    if submission is None:
        raise NotFound("no such submission")
    return submission


async def submission_of(session: AsyncSession, submitter_id: str, submission_id: str
                        ) -> Submission:
    """One of this submitter's own submissions (anyone else's is not found)."""
    submission = await session.get(Submission, submission_id)
    if submission is None or submission.submitter_id != submitter_id:
        raise NotFound("no such submission")
    return submission


async def submissions_of_submitter(session: AsyncSession, submitter_id: str
                                   ) -> list[Submission]:
    query = (select(Submission).where(Submission.submitter_id == submitter_id)
             .order_by(Submission.submitted_at.desc()))
    return list((await session.execute(query)).scalars())


async def list_submissions(session: AsyncSession, *, status: SubmissionStatus | None = None,
                           form_id: str | None = None, limit: int = 500) -> list[Submission]:
    query = select(Submission).order_by(Submission.submitted_at.desc(),
                                        Submission.id).limit(limit)
    if status is not None:
        query = query.where(Submission.status == status)
    if form_id:
        query = query.where(Submission.form_id == form_id)
    return list((await session.execute(query)).scalars())


async def count_by_status(session: AsyncSession) -> Counter[SubmissionStatus]:
    query = select(Submission.status, func.count()).group_by(Submission.status)
    return Counter({status: n for status, n in (await session.execute(query)).all()})


async def events_of(session: AsyncSession, submission_id: str, *, include_internal: bool
                    ) -> list[SubmissionEvent]:
    query = (select(SubmissionEvent).where(SubmissionEvent.submission_id == submission_id)
             .order_by(SubmissionEvent.at, SubmissionEvent.id))
    if not include_internal:
        query = query.where(SubmissionEvent.internal.is_(False))
    return list((await session.execute(query)).scalars())


# ---- reviewing --------------------------------------------------------------------------------


async def change_status(session: AsyncSession, submission: Submission, status: SubmissionStatus,
                        *, staff_id: str, author_name: str, comment: str = "",
                        language: str = "") -> SubmissionEvent:
    if status is submission.status:
        raise Conflict(f"the submission is already {status.value.replace('_', ' ')}")
    event = SubmissionEvent(submission_id=submission.id, kind=EventKind.STATUS,
                            from_status=submission.status.value, to_status=status.value,
                            text=comment.strip(), language=language, staff_id=staff_id,
                            author_name=author_name, internal=False)
    submission.status = status
    submission.updated_at = utcnow()
    session.add(event)
    await session.flush()
    return event


async def add_comment(session: AsyncSession, submission: Submission, text: str, *,
                      author_name: str, language: str, staff_id: str | None = None,
                      internal: bool = False) -> SubmissionEvent:
    """A staff comment (``staff_id``), or the worker's reply (no ``staff_id``)."""
    if not text.strip():
        raise Conflict("write a comment first")
    event = SubmissionEvent(submission_id=submission.id, kind=EventKind.COMMENT,
                            text=text.strip(), language=language, staff_id=staff_id,
                            author_name=author_name, internal=internal and staff_id is not None)
    submission.updated_at = utcnow()
    session.add(event)
    await session.flush()
    return event


async def add_late_file(session: AsyncSession, submission: Submission, *, field: str,
                        attachment_id: str, filename: str, author_name: str,
                        language: str) -> SubmissionEvent:
    """A file the worker adds to a submission whose reviewer asked for more information."""
    ensure_open_for_files(submission)
    answers = dict(submission.answers)
    answers[field] = [*answers.get(field, []), attachment_id]
    submission.answers = answers
    submission.updated_at = utcnow()
    event = SubmissionEvent(submission_id=submission.id, kind=EventKind.FILE, text=filename,
                            language=language, author_name=author_name, internal=False)
    session.add(event)
    await session.flush()
    return event


def ensure_open_for_files(submission: Submission) -> None:
    if submission.status is not SubmissionStatus.NEEDS_INFO:
        raise Conflict("Files can be added to a sent form only when more information was "
                       "asked for.")


async def add_event_translations(session: AsyncSession, event: SubmissionEvent,
                                 translations: dict[str, dict[str, str]]) -> None:
    event.translations = {**event.translations, **translations}
    await session.flush()
