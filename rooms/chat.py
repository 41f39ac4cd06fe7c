"""Chat messages: stored with a per-room sequence number, deduplicated by the client's id."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.errors import NotAdmitted
from rooms.lifecycle import ensure_not_ended
from rooms.models import Admission, ChatMessage, ChatTranslation, Participant, Room

HISTORY_PAGE = 500


async def post_message(
    session: AsyncSession,
    *,
    room: Room,
    sender: Participant,
    client_id: str,
    text: str,
    language: str = "",
) -> tuple[ChatMessage, bool]:
    """Store a message written in ``language``; returns it and whether it is new (a retried
    client_id is not)."""
    ensure_not_ended(room)
    if sender.admission is not Admission.ADMITTED:
        raise NotAdmitted("you can chat once you are admitted")
    existing = await _find(session, sender.id, client_id)
    if existing is not None:
        return existing, False
    seq = await _next_seq(session, room.id)
    message = ChatMessage(
        room_id=room.id, seq=seq, sender_id=sender.id, client_id=client_id, text=text,
        language=language,
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


async def latest(session: AsyncSession, room_id: str, *, limit: int) -> list[ChatMessage]:
    """The room's last ``limit`` messages, oldest first."""
    query = (
        select(ChatMessage)
        .where(ChatMessage.room_id == room_id)
        .order_by(ChatMessage.seq.desc())
        .limit(limit)
    )
    return list(reversed((await session.execute(query)).scalars().all()))


async def add_translations(
    session: AsyncSession, message_id: str, translations: dict[str, tuple[str, str]]
) -> None:
    """Keep ``{language: (text, route)}`` beside the message; a language it already has is
    left as it is (the first stored translation is the one everyone saw)."""
    if not translations:
        return
    have = set(
        (
            await session.execute(
                select(ChatTranslation.language).where(ChatTranslation.message_id == message_id)
            )
        ).scalars()
    )
    for language, (text, route) in translations.items():
        if language in have:
            continue
        try:
            async with session.begin_nested():
                session.add(ChatTranslation(
                    message_id=message_id, language=language, text=text, route=route))
        except IntegrityError:
            continue  # another node stored this language first


async def translations_of(
    session: AsyncSession, message_ids: list[str]
) -> dict[str, dict[str, ChatTranslation]]:
    """``{message_id: {language: translation}}`` for the given messages."""
    found: dict[str, dict[str, ChatTranslation]] = {mid: {} for mid in message_ids}
    if not message_ids:
        return found
    query = select(ChatTranslation).where(ChatTranslation.message_id.in_(message_ids))
    for row in (await session.execute(query)).scalars():
        found[row.message_id][row.language] = row
    return found
