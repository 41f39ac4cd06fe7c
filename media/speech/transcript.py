"""The result of recognizing one piece of audio."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of recognized text with times in seconds relative to the audio's start."""

    start: float
    end: float
    text: str
    compression_ratio: float = 0.0


@dataclass(frozen=True, slots=True)
class Transcript:
    """Recognized text of one audio buffer."""

    text: str
    language: str
    language_probability: float
    segments: tuple[Segment, ...]
    duration: float

    @classmethod
    def from_segments(
        cls,
        segments: tuple[Segment, ...],
        *,
        language: str,
        language_probability: float,
        duration: float,
    ) -> Transcript:
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        return cls(text, language, language_probability, segments, duration)
