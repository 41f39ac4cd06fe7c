"""A room's transcript: the final captions of speakers who consented to transcription."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import TranscriptEntry


async def add_entry(
    session: AsyncSession,
    *,
    room_id: str,
    speaker_id: str,
    speaker_name: str,
    language: str,
    text: str,
    t_start: float,
    t_end: float,
) -> TranscriptEntry:
    entry = TranscriptEntry(
        room_id=room_id, speaker_id=speaker_id, speaker_name=speaker_name, language=language,
        text=text, t_start=t_start, t_end=t_end,
    )
    session.add(entry)
    await session.flush()
    return entry


async def list_entries(session: AsyncSession, room_id: str) -> list[TranscriptEntry]:
    """The room's transcript in the order it was spoken (stored)."""
    query = (
        select(TranscriptEntry)
        .where(TranscriptEntry.room_id == room_id)
        .order_by(TranscriptEntry.created_at, TranscriptEntry.id)
    )
    return list((await session.execute(query)).scalars())
