"""Forms pushed to a worker during a session: stored when pushed, marked when the worker sends
the form, read back for whoever (re)connects to the room."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.form_models import FormPush, Submission
from rooms.models import utcnow


async def push(session: AsyncSession, *, room_id: str, participant_id: str, form_id: str,
               submitter_id: str, pushed_by: str) -> tuple[FormPush, bool]:
    """The push of this form to this worker: the one still waiting for it if there is one
    (pushing twice does not ask twice), else a new one. True when new."""
    query = (select(FormPush)
             .where(FormPush.room_id == room_id, FormPush.participant_id == participant_id,
                    FormPush.form_id == form_id, FormPush.submission_id.is_(None))
             .limit(1))
    waiting = (await session.execute(query)).scalar_one_or_none()
    if waiting is not None:
        return waiting, False
    row = FormPush(room_id=room_id, participant_id=participant_id, form_id=form_id,
                   submitter_id=submitter_id, pushed_by=pushed_by, pushed_at=utcnow())
    session.add(row)
    await session.flush()
    return row, True


async def of_room(session: AsyncSession, room_id: str,
                  participant_id: str | None = None) -> list[FormPush]:
    """A room's pushes, oldest first (only one participant's when given)."""
    query = select(FormPush).where(FormPush.room_id == room_id)
    if participant_id is not None:
        query = query.where(FormPush.participant_id == participant_id)
    return list((await session.execute(query.order_by(FormPush.pushed_at))).scalars())


async def answered_by(session: AsyncSession, submission: Submission) -> list[FormPush]:
    """The waiting pushes this submission answers (its submitter, its form), now marked sent."""
    query = select(FormPush).where(FormPush.submitter_id == submission.submitter_id,
                                   FormPush.form_id == submission.form_id,
                                   FormPush.submission_id.is_(None))
    rows = list((await session.execute(query)).scalars())
    for row in rows:
        row.submission_id = submission.id
        row.submitted_at = submission.submitted_at
    await session.flush()
    return rows
