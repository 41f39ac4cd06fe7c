"""Invitations into one room with one role; the verification code is stored hashed.

A code is checked only after an attempt was reserved in the database (one atomic UPDATE), so
parallel guesses cannot outrun the lock; the first browser that joins claims the invitation
(another atomic UPDATE), and nobody else can join with it afterwards."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import Conflict, NotFound
from rooms.lifecycle import ensure_not_ended
from rooms.models import INVITABLE_ROLES, Invite, Room, RoomRole, utcnow

MAX_FAILED_ATTEMPTS = 5
SHORT_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
SHORT_CODE_LENGTH = 10


async def create_invite(
    session: AsyncSession,
    *,
    room: Room,
    role: RoomRole,
    label: str,
    code_hash: str,
    expires_at: datetime,
    created_by: str,
    language: str = "",
) -> Invite:
    ensure_not_ended(room)
    if role not in INVITABLE_ROLES:
        raise Conflict(f"invites are for {', '.join(r.value for r in INVITABLE_ROLES)}")
    invite = Invite(
        room_id=room.id, role=role, label=label.strip(), code_hash=code_hash,
        expires_at=expires_at, created_by=created_by, failed_attempts=0, revoked=False,
        short_code=new_short_code(), language=language,
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


def new_short_code() -> str:
    """The code of an invitation's short link: SHORT_CODE_LENGTH letters and digits that
    cannot be mistaken for one another (31 symbols: about 49.5 bits), from the system's CSPRNG.
    It only finds the invitation: joining still takes the verification code."""
    return "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


async def by_short_code(session: AsyncSession, short_code: str) -> Invite | None:
    query = select(Invite).where(Invite.short_code == short_code)
    return (await session.execute(query)).scalar_one_or_none()


class InviteState(enum.StrEnum):
    """What the staff list shows of an invitation."""

    UNUSED = "unused"
    JOINED = "joined"
    LOCKED = "locked"
    """Five wrong codes: nobody can join with it until a new code is issued."""
    EXPIRED = "expired"
    REVOKED = "revoked"


def state_of(invite: Invite) -> InviteState:
    if invite.claimed_at is not None:
        return InviteState.JOINED
    if invite.revoked:
        return InviteState.REVOKED
    if invite.failed_attempts >= MAX_FAILED_ATTEMPTS:
        return InviteState.LOCKED
    if invite.expires_at <= utcnow():
        return InviteState.EXPIRED
    return InviteState.UNUSED


async def replace_code(session: AsyncSession, invite: Invite, *, code_hash: str,
                       expires_at: datetime) -> None:
    """A new verification code for an invitation nobody joined with: the old code stops
    working, the wrong tries start again from zero and it is valid until ``expires_at``."""
    if invite.claimed_at is not None:
        raise Conflict("someone has already joined with this invitation")
    if invite.revoked:
        raise Conflict("this invitation was withdrawn")
    invite.code_hash = code_hash
    invite.failed_attempts = 0
    invite.expires_at = expires_at
    if invite.short_code is None:
        invite.short_code = new_short_code()
    await session.flush()


def invite_usable(invite: Invite) -> bool:
    return (
        not invite.revoked
        and invite.failed_attempts < MAX_FAILED_ATTEMPTS
        and invite.expires_at > utcnow()
    )


async def reserve_attempt(session: AsyncSession, invite_id: str) -> int | None:
    """Count one code attempt before the code is checked, atomically in the database; returns
    the attempts left after this one, or None when the invitation is locked (no attempt left).
    The caller commits before checking the code, and gives the attempt back if it was right."""
    query = (
        update(Invite)
        .where(Invite.id == invite_id, Invite.failed_attempts < MAX_FAILED_ATTEMPTS)
        .values(failed_attempts=Invite.failed_attempts + 1)
        .returning(Invite.failed_attempts)
        .execution_options(synchronize_session=False)
    )
    used = (await session.execute(query)).scalar_one_or_none()
    return None if used is None else MAX_FAILED_ATTEMPTS - used


async def give_back_attempt(session: AsyncSession, invite_id: str) -> None:
    """The reserved attempt had the right code: it does not count against the invitation."""
    await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.failed_attempts > 0)
        .values(failed_attempts=Invite.failed_attempts - 1)
        .execution_options(synchronize_session=False)
    )


async def claim(session: AsyncSession, invite_id: str) -> bool:
    """Claim an unclaimed invitation for the joining browser; False when another was first."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.claimed_at.is_(None))
        .values(claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
