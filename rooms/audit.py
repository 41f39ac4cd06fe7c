"""The audit log: who viewed or exported a room's transcript, which admin reached a room not
theirs, who added a counselor to a room; and when."""

from __future__ import annotations

import enum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import AuditEntry, StaffUser


class AuditAction(enum.StrEnum):
    """What was done; ``detail["format"]`` says in which form (the page, json, vtt, txt)."""

    VIEW_TRANSCRIPT = "transcript.view"
    EXPORT_TRANSCRIPT = "transcript.export"
    ADMIN_ROOM_ACCESS = "room.admin_access"
    """An admin reached a room they neither created nor were added to (``detail["doing"]``)."""
    ADD_COUNSELOR = "room.add_counselor"
    NEW_INVITE_CODE = "invite.new_code"
    """A new verification code for an invitation (``detail["invite_id"]``): it was shown."""


async def record(
    session: AsyncSession, *, staff: StaffUser, action: str, room_id: str | None,
    detail: dict[str, str] | None = None,
) -> AuditEntry:
    """Add an entry in the caller's transaction (flushed, so a failed write fails the request
    before anything is shown)."""
    entry = AuditEntry(staff_id=staff.id, staff_name=staff.display_name, action=action,
                       room_id=room_id, detail=dict(detail or {}))
    session.add(entry)
    await session.flush()
    return entry


async def recent(session: AsyncSession, *, room_id: str | None = None,
                 limit: int = 200) -> list[AuditEntry]:
    """The latest entries, newest first (of one room, when given)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if room_id is not None:
        query = query.where(AuditEntry.room_id == room_id)
    return list((await session.execute(query)).scalars())
