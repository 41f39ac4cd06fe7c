"""Caption events: what a speaker said, partial while the utterance grows, final at its end."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt


class CaptionKind(StrEnum):
    PARTIAL = "partial"
    FINAL = "final"
    ABANDONED = "abandoned"
    """The utterance will never get a final (its speaker withdrew consent mid-sentence)."""


@dataclass(frozen=True, slots=True)
class CaptionEvent:
    """One caption of one speaker's ``utterance_id``: partials while it grows, then one final
    that replaces them (or an ``abandoned`` event: no final is coming). ``rev`` grows with every
    event about the utterance; ``utterance`` is its index in the stream. Times are seconds on
    the caller's clock: the stream's first sample is at the recognizer's ``clock_start_s``."""

    room_id: str
    speaker_id: str
    utterance_id: str
    rev: int
    utterance: int
    language: str
    text: str
    kind: CaptionKind
    t_start: float
    t_end: float
    audio: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)
    """A final's speech (16 kHz mono, with the VAD's padding), for a second pass such as
    Whisper's speech-to-English translation; None on partials."""

    @property
    def is_final(self) -> bool:
        return self.kind is CaptionKind.FINAL

    def abandoned(self) -> CaptionEvent:
        """The event that withdraws this utterance's partial captions (no final will come)."""
        return dataclasses.replace(self, kind=CaptionKind.ABANDONED, rev=self.rev + 1, text="",
                                   audio=None)
