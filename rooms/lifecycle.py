"""Rooms and their lifecycle: scheduled -> open -> ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import InvalidTransition, NotFound, RoomEnded
from rooms.models import Room, RoomStatus, utcnow

TRANSITIONS: dict[RoomStatus, frozenset[RoomStatus]] = {
    RoomStatus.SCHEDULED: frozenset({RoomStatus.OPEN, RoomStatus.ENDED}),
    RoomStatus.OPEN: frozenset({RoomStatus.ENDED}),
    RoomStatus.ENDED: frozenset(),
}


async def create_room(
    session: AsyncSession,
    *,
    title: str,
    starts_at: datetime,
    languages: Sequence[str],
    created_by: str,
    auto_admit: bool = False,
) -> Room:
    room = Room(
        title=title.strip(), starts_at=starts_at, languages=list(dict.fromkeys(languages)),
        created_by=created_by, auto_admit=auto_admit, status=RoomStatus.SCHEDULED, chat_seq=0,
    )
    session.add(room)
    await session.flush()
    return room


async def get_room(session: AsyncSession, room_id: str) -> Room:
    room = await session.get(Room, room_id)
    if room is None:
        raise NotFound("no such room")
    return room


async def list_rooms(session: AsyncSession, *, include_ended: bool = True) -> list[Room]:
    query = select(Room).order_by(Room.starts_at)
    if not include_ended:
        query = query.where(Room.status != RoomStatus.ENDED)
    return list((await session.execute(query)).scalars())


async def update_schedule(
    session: AsyncSession, room: Room, *, title: str, starts_at: datetime, languages: Sequence[str]
) -> Room:
    ensure_not_ended(room)
    room.title = title.strip()
    room.starts_at = starts_at
    room.languages = list(dict.fromkeys(languages))
    await session.flush()
    return room


def ensure_not_ended(room: Room) -> None:
    if room.status is RoomStatus.ENDED:
        raise RoomEnded("this session has ended")


async def transition(session: AsyncSession, room: Room, target: RoomStatus) -> Room:
    if target not in TRANSITIONS[room.status]:
        if room.status is RoomStatus.ENDED:
            raise RoomEnded("this session has ended")
        raise InvalidTransition(f"a {room.status.value} room cannot become {target.value}")
    room.status = target
    if target is RoomStatus.OPEN:
        room.opened_at = utcnow()
    if target is RoomStatus.ENDED:
        room.ended_at = utcnow()
    await session.flush()
    return room


async def set_auto_admit(session: AsyncSession, room: Room, enabled: bool) -> Room:
    ensure_not_ended(room)
    room.auto_admit = enabled
    await session.flush()
    return room
