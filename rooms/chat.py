"""Chat messages: stored with a per-room sequence number, deduplicated by the client's id."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import NotAdmitted
from rooms.lifecycle import ensure_not_ended
from rooms.models import Admission, ChatMessage, Participant, Room

HISTORY_PAGE = 500


async def post_message(
    session: AsyncSession, *, room: Room, sender: Participant, client_id: str, text: str
) -> tuple[ChatMessage, bool]:
    """Store a message; returns it and whether it is new (a retried client_id is not)."""
    ensure_not_ended(room)
    if sender.admission is not Admission.ADMITTED:
        raise NotAdmitted("you can chat once you are admitted")
    existing = await _find(session, sender.id, client_id)
    if existing is not None:
        return existing, False
    seq = await _next_seq(session, room.id)
    message = ChatMessage(
        room_id=room.id, seq=seq, sender_id=sender.id, client_id=client_id, text=text
    )
    try:
        async with session.begin_nested():
            session.add(message)
    except IntegrityError:
        duplicate = await _find(session, sender.id, client_id)
        if duplicate is None:
            raise
        return duplicate, False
    return message, True


async def _find(session: AsyncSession, sender_id: str, client_id: str) -> ChatMessage | None:
    query = select(ChatMessage).where(
        ChatMessage.sender_id == sender_id, ChatMessage.client_id == client_id
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _next_seq(session: AsyncSession, room_id: str) -> int:
    statement = (
        update(Room)
        .where(Room.id == room_id)
        .values(chat_seq=Room.chat_seq + 1)
        .returning(Room.chat_seq)
    )
    return (await session.execute(statement)).scalar_one()


async def history(
    session: AsyncSession, room_id: str, *, after_seq: int = 0, limit: int = HISTORY_PAGE
) -> list[ChatMessage]:
    query = (
        select(ChatMessage)
        .where(ChatMessage.room_id == room_id, ChatMessage.seq > after_seq)
        .order_by(ChatMessage.seq)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())
