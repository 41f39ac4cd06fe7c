"""Chat messages as stored (by `rooms.chat_writer`, with a per-room sequence number, deduplicated
by the client's id): history, the latest, and their translations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import ChatMessage, ChatTranslation

HISTORY_PAGE = 500


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
