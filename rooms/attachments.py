"""Attachment records (the files themselves are kept by `server.forms.attachments`)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import NotFound
from rooms.form_models import Attachment


async def add(session: AsyncSession, *, submitter_id: str, field: str, filename: str,
              content_type: str, size: int, sha256: str, storage_key: str,
              draft_id: str | None = None, submission_id: str | None = None) -> Attachment:
    """A file on a draft, or (added later) on a submission."""
    attachment = Attachment(submitter_id=submitter_id, draft_id=draft_id,
                            submission_id=submission_id, field=field, filename=filename,
                            content_type=content_type, size=size, sha256=sha256,
                            storage_key=storage_key)
    session.add(attachment)
    await session.flush()
    return attachment


async def get(session: AsyncSession, attachment_id: str) -> Attachment:
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    return attachment


async def of_submitter(session: AsyncSession, submitter_id: str, attachment_id: str
                       ) -> Attachment:
    """One of this submitter's own attachments (anyone else's is not found)."""
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.submitter_id != submitter_id:
        raise NotFound("no such attachment")
    return attachment


async def of_draft(session: AsyncSession, draft_id: str) -> list[Attachment]:
    query = (select(Attachment).where(Attachment.draft_id == draft_id)
             .order_by(Attachment.created_at, Attachment.id))
    return list((await session.execute(query)).scalars())


async def of_submission(session: AsyncSession, submission_id: str) -> list[Attachment]:
    query = (select(Attachment).where(Attachment.submission_id == submission_id)
             .order_by(Attachment.created_at, Attachment.id))
    return list((await session.execute(query)).scalars())


async def count_on_field(session: AsyncSession, field: str, *, draft_id: str | None = None,
                         submission_id: str | None = None) -> int:
    owner = (Attachment.draft_id == draft_id if draft_id is not None
             else Attachment.submission_id == submission_id)
    query = select(func.count()).select_from(Attachment).where(owner, Attachment.field == field)
    return (await session.execute(query)).scalar_one()


async def remove(session: AsyncSession, attachment: Attachment) -> None:
    await session.delete(attachment)
    await session.flush()
