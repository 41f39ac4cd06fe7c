"""Invitations into one room with one role; the verification code is stored hashed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict, NotFound
from rooms.lifecycle import ensure_not_ended
from rooms.models import INVITABLE_ROLES, Invite, Room, RoomRole, utcnow

MAX_FAILED_ATTEMPTS = 5


async def create_invite(
    session: AsyncSession,
    *,
    room: Room,
    role: RoomRole,
    label: str,
    code_hash: str,
    expires_at: datetime,
    created_by: str,
) -> Invite:
    ensure_not_ended(room)
    if role not in INVITABLE_ROLES:
        raise Conflict(f"invites are for {', '.join(r.value for r in INVITABLE_ROLES)}")
    invite = Invite(
        room_id=room.id, role=role, label=label.strip(), code_hash=code_hash,
        expires_at=expires_at, created_by=created_by, failed_attempts=0, revoked=False,
    )
    session.add(invite)
    await session.flush()
    return invite


async def get_invite(session: AsyncSession, invite_id: str) -> Invite:
    invite = await session.get(Invite, invite_id)
    if invite is None:
        raise NotFound("no such invitation")
    return invite


async def list_invites(session: AsyncSession, room_id: str) -> list[Invite]:
    query = select(Invite).where(Invite.room_id == room_id).order_by(Invite.created_at)
    return list((await session.execute(query)).scalars())


def invite_usable(invite: Invite) -> bool:
    return (
        not invite.revoked
        and invite.failed_attempts < MAX_FAILED_ATTEMPTS
        and invite.expires_at > utcnow()
    )


async def record_failed_attempt(session: AsyncSession, invite: Invite) -> int:
    """Count a wrong verification code; returns the attempts left."""
    invite.failed_attempts += 1
    await session.flush()
    return max(0, MAX_FAILED_ATTEMPTS - invite.failed_attempts)


async def revoke_invite(session: AsyncSession, invite: Invite) -> None:
    invite.revoked = True
    await session.flush()
