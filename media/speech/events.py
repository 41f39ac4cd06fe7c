"""Caption events: what a speaker said, partial while the utterance grows, final at its end."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CaptionKind(StrEnum):
    PARTIAL = "partial"
    FINAL = "final"


@dataclass(frozen=True, slots=True)
class CaptionEvent:
    """One caption of one speaker. ``seq`` grows by one per event of the stream; a final
    replaces the partials of its ``utterance``; times are seconds from the stream's start."""

    room_id: str
    speaker_id: str
    seq: int
    utterance: int
    language: str
    text: str
    kind: CaptionKind
    t_start: float
    t_end: float

    @property
    def is_final(self) -> bool:
        return self.kind is CaptionKind.FINAL
