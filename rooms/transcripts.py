"""A room's transcript: the final captions of speakers who consented to transcription."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rooms import corrections as corrections_repo
from rooms.models import CaptionCorrection, TranscriptEntry


async def add_entry(
    session: AsyncSession,
    *,
    room_id: str,
    speaker_id: str,
    speaker_name: str,
    utterance_id: str,
    language: str,
    text: str,
    t_start: float,
    t_end: float,
    translations: dict[str, dict[str, str]] | None = None,
) -> TranscriptEntry:
    """Store one final caption; ``utterance_id`` is its caption's (one entry per utterance),
    times are seconds on the session's clock (from the room's opening); ``translations`` maps
    a language to ``{"text", "route"}``."""
    entry = TranscriptEntry(
        room_id=room_id, speaker_id=speaker_id, speaker_name=speaker_name,
        utterance_id=utterance_id, language=language, text=text, t_start=t_start, t_end=t_end,
        translations=dict(translations or {}),
    )
    session.add(entry)
    await session.flush()
    return entry


async def add_translations(
    session: AsyncSession, utterance_id: str, translations: dict[str, dict[str, str]]
) -> TranscriptEntry | None:
    """Add translations made after the entry was stored (Whisper's English); None when the
    utterance has no entry."""
    query = select(TranscriptEntry).where(TranscriptEntry.utterance_id == utterance_id)
    entry = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if entry is None:
        return None
    entry.translations = {**entry.translations, **translations}  # a new dict: JSON is replaced
    await session.flush()
    return entry


async def list_entries(session: AsyncSession, room_id: str) -> list[TranscriptEntry]:
    """The room's transcript in the order it was spoken: by start on the session's clock."""
    query = (
        select(TranscriptEntry)
        .where(TranscriptEntry.room_id == room_id)
        .order_by(TranscriptEntry.t_start, TranscriptEntry.created_at, TranscriptEntry.id)
    )
    return list((await session.execute(query)).scalars())


@dataclass(frozen=True)
class TranscriptLine:
    """One stored entry with every correction of its utterance, in every language (oldest
    first)."""

    entry: TranscriptEntry
    corrections: list[CaptionCorrection]


async def with_corrections(session: AsyncSession, room_id: str) -> list[TranscriptLine]:
    """The room's transcript in spoken order, each entry with its corrections. Only what is
    stored: corrections of utterances without an entry (speakers who did not consent) are left
    out."""
    by_utterance: dict[str, list[CaptionCorrection]] = defaultdict(list)
    for correction in await corrections_repo.history(session, room_id):
        by_utterance[correction.utterance_id].append(correction)
    return [TranscriptLine(entry, by_utterance.get(entry.utterance_id or "", []))
            for entry in await list_entries(session, room_id)]
