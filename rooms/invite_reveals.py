"""A new invitation's code, kept server-side for the one page that shows it to the staff member
who issued it (the session cookie, signed but readable, carries only the opaque id). Reading it
deletes it; one not read within ``KEEP`` is deleted with the next invitation."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import Invite, InviteReveal, utcnow

KEEP = timedelta(minutes=10)


async def stash(session: AsyncSession, *, invite_id: str, staff_id: str, code: str) -> str:
    """Keep the code for one showing; returns the opaque id the session cookie may carry."""
    await session.execute(delete(InviteReveal).where(InviteReveal.created_at < utcnow() - KEEP))
    reveal = InviteReveal(id=secrets.token_urlsafe(32), invite_id=invite_id, staff_id=staff_id,
                          code=code)
    session.add(reveal)
    await session.flush()
    return reveal.id


async def take(session: AsyncSession, reveal_id: str, staff_id: str
               ) -> tuple[Invite, str] | None:
    """The invitation and its code, once, for the staff member who issued it."""
    query = (select(InviteReveal, Invite).join(Invite, Invite.id == InviteReveal.invite_id)
             .where(InviteReveal.id == reveal_id, InviteReveal.staff_id == staff_id,
                    InviteReveal.created_at >= utcnow() - KEEP))
    row = (await session.execute(query)).first()
    await session.execute(delete(InviteReveal).where(InviteReveal.id == reveal_id))
    if row is None:
        return None
    reveal, invite = row
    return invite, reveal.code
