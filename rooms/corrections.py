"""Interpreters' corrections of final captions: every one kept, the latest per (utterance,
language) shown (`server.corrections.current`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms.models import CaptionCorrection, Participant


async def add(
    session: AsyncSession, *, room_id: str, utterance_id: str, language: str, text: str,
    replaced_text: str, by: Participant,
) -> CaptionCorrection:
    correction = CaptionCorrection(
        room_id=room_id, utterance_id=utterance_id, language=language, text=text,
        replaced_text=replaced_text, corrected_by=by.id, corrected_by_name=by.display_name)
    session.add(correction)
    await session.flush()
    return correction


async def history(session: AsyncSession, room_id: str) -> list[CaptionCorrection]:
    """Every correction of the room, oldest first."""
    query = (select(CaptionCorrection).where(CaptionCorrection.room_id == room_id)
             .order_by(CaptionCorrection.created_at, CaptionCorrection.id))
    return list((await session.execute(query)).scalars())


async def of_utterance(session: AsyncSession, room_id: str,
                       utterance_id: str) -> list[CaptionCorrection]:
    """Every correction of one final caption, oldest first."""
    query = (select(CaptionCorrection)
             .where(CaptionCorrection.room_id == room_id,
                    CaptionCorrection.utterance_id == utterance_id)
             .order_by(CaptionCorrection.created_at, CaptionCorrection.id))
    return list((await session.execute(query)).scalars())

